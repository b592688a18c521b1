-- Cancels a live job, whatever its state: it moves to finished_jobs as cancelled. A worker still
-- running it holds a grab token that now matches nothing, so its outcome is refused. A workflow's
-- child reports the cancel to its parent's run (workflow_wakeups, kind 'child'); a workflow job
-- whose run exists gets a 'cancel' wake-up, on which the engine cancels its children and ends the run.
-- Params: $1 id bigint, $2 keep_ms bigint, $3 now (null: database clock).
-- Returns the id when cancelled; no row when the job was not live.
WITH c AS (
  SELECT coalesce($3::timestamptz, statement_timestamp()) AS now
), gone AS (
  DELETE FROM jobs WHERE id = $1 RETURNING *
), told AS (
  INSERT INTO workflow_wakeups (run_id, kind, child_id, payload, created_at)
  SELECT g.parent_id, 'child', g.id, jsonb_build_object('succeeded', false, 'error', 'cancelled'), c.now
  FROM gone g CROSS JOIN c
  WHERE g.parent_id IS NOT NULL AND EXISTS (SELECT 1 FROM workflow_runs r WHERE r.job_id = g.parent_id)
  UNION ALL
  SELECT g.id, 'cancel', NULL, NULL, c.now
  FROM gone g CROSS JOIN c
  WHERE EXISTS (SELECT 1 FROM workflow_runs r WHERE r.job_id = g.id)
)
INSERT INTO finished_jobs (id, funcname, arg, uniqkey, state, priority, run_after, coalesce_key, max_retries, timeout_ms, attempts, failures, result, created_at, finished_at, delete_after, trigger_id, parent_id)
SELECT g.id, g.funcname, g.arg, g.uniqkey, 'cancelled', g.priority, g.run_after, g.coalesce_key, g.max_retries,
       g.timeout_ms, g.attempts, g.failures, 'null', g.created_at, c.now, c.now + $2::bigint * interval '1 millisecond', g.trigger_id, g.parent_id
FROM gone g CROSS JOIN c
RETURNING id::text
