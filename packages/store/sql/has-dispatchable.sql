-- Whether the relay has work: any ready job. One round trip and no transaction, so a busy relay
-- can poll it every few milliseconds instead of being woken by a NOTIFY per insert.
-- Params: none.
-- Returns ready boolean.
SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'ready') AS ready
