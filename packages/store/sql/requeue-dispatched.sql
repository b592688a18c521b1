-- Gives every dispatched job back to ready: for an embedded store starting up, whose in-memory
-- broker lost the messages of the previous run. Not for a store shared with other processes.
-- Params: none.
-- Returns requeued: how many jobs.
WITH requeued AS (
  UPDATE jobs SET state = 'ready', dispatched_at = NULL WHERE state = 'dispatched' RETURNING 1
)
SELECT count(*)::int AS requeued FROM requeued
