-- The next ready jobs for the relay to publish, highest priority first. No row is locked: only
-- one relay leads at a time, and the mark that follows the publish is guarded by each row's version.
-- Params: $1 limit int.
-- Returns id, funcname, priority, state ('ready'), version (the row's xmin, for mark-dispatched.sql).
SELECT id::text, funcname, priority, state, xmin::text AS version
FROM jobs
WHERE state = 'ready'
ORDER BY priority DESC, run_after, id
LIMIT $1
