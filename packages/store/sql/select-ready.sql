-- The next ready jobs for the relay to publish, highest priority first, skipping rows another
-- session holds (a transaction cancelling or rescheduling one, say): publishing such a job would
-- only make a worker's claim wait on that transaction. The locks end with this statement (only one
-- relay leads, and the mark that follows is guarded by each row's version), and its commit does
-- not wait for the disk: it changed nothing.
-- Params: $1 limit int.
-- Returns id, funcname, priority, state ('ready'), version (the row's xmin, for mark-dispatched.sql).
WITH async AS (
  SELECT set_config('synchronous_commit', 'off', true)
)
SELECT j.id::text, j.funcname, j.priority, j.state, j.xmin::text AS version
FROM jobs j, async
WHERE j.state = 'ready'
ORDER BY j.priority DESC, j.run_after, j.id
LIMIT $1
FOR UPDATE OF j SKIP LOCKED
