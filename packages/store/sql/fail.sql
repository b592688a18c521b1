-- Records failed attempts of running jobs whose grab token matches. Each failure is logged, and
-- the failure count is raised in the same statement that sets the next run time: the job backs
-- off (scheduled at now + retry_delay_ms), or, when the failure is permanent or its retries are
-- spent, moves to finished_jobs as failed. Also the lease-expiry sweep: with expired_only, a job
-- whose lease was extended meanwhile is refused. A job a trigger created that fails for good leaves
-- its outcome and error in trigger_outcomes for the scheduler to fold; a workflow's child that fails
-- for good leaves its outcome and error in workflow_wakeups for its parent's run.
-- Params: $1 id bigint[], $2 grab_token bigint[], $3 error text[], $4 retry_delay_ms bigint[],
--   $5 permanent boolean[], $6 max_retries int[] (null: the job's own), $7 keep_ms bigint[] (pairwise),
--   $8 expired_only boolean, $9 now (null: database clock).
-- Returns id, outcome ('retry' or 'failed'), failures, run_after (null when failed); refused ids are missing.
WITH c AS (
  SELECT coalesce($9::timestamptz, statement_timestamp()) AS now
), target AS (
  SELECT j.id, j.attempts, j.funcname, j.failures + 1 AS failures,
         (coalesce(i.permanent, false) OR j.failures + 1 > coalesce(i.max_retries, j.max_retries)) AS final,
         i.error, i.retry_delay_ms, i.keep_ms
  FROM jobs j
  JOIN unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::boolean[], $6::int[], $7::bigint[])
    AS i(id, token, error, retry_delay_ms, permanent, max_retries, keep_ms)
    ON j.id = i.id AND j.grab_token = i.token
  CROSS JOIN c
  WHERE j.state = 'running' AND (NOT $8::boolean OR j.grabbed_until <= c.now)
  -- Id order, as every batched outcome write: overlapping batches cannot deadlock.
  ORDER BY j.id
  FOR UPDATE OF j
), logged AS (
  INSERT INTO job_failures (job_id, attempt, funcname, error, failed_at)
  SELECT t.id, t.attempts, t.funcname, t.error, c.now FROM target t CROSS JOIN c
), retried AS (
  UPDATE jobs j
  SET state = CASE WHEN t.retry_delay_ms > 0 THEN 'scheduled' ELSE 'ready' END,
      failures = t.failures,
      run_after = c.now + t.retry_delay_ms * interval '1 millisecond',
      grab_token = NULL, grabbed_until = NULL, dispatched_at = NULL
  FROM target t CROSS JOIN c
  WHERE j.id = t.id AND NOT t.final
  RETURNING j.id, j.failures, j.run_after
), dead AS (
  DELETE FROM jobs j USING target t
  WHERE j.id = t.id AND t.final
  RETURNING j.*, t.failures AS new_failures, t.keep_ms, t.error AS new_error
), buried AS (
  INSERT INTO finished_jobs (id, funcname, arg, uniqkey, state, priority, run_after, coalesce_key, max_retries, timeout_ms, attempts, failures, result, created_at, finished_at, delete_after, trigger_id, parent_id)
  SELECT d.id, d.funcname, d.arg, d.uniqkey, 'failed', d.priority, d.run_after, d.coalesce_key, d.max_retries,
         d.timeout_ms, d.attempts, d.new_failures, 'null', d.created_at, c.now, c.now + d.keep_ms * interval '1 millisecond', d.trigger_id, d.parent_id
  FROM dead d CROSS JOIN c
  RETURNING id, failures
), triggered AS (
  INSERT INTO trigger_outcomes (trigger_id, job_id, succeeded, error, finished_at)
  SELECT d.trigger_id, d.id, false, d.new_error, c.now FROM dead d CROSS JOIN c WHERE d.trigger_id IS NOT NULL
), children AS (
  INSERT INTO workflow_wakeups (run_id, kind, child_id, payload, created_at)
  SELECT d.parent_id, 'child', d.id, jsonb_build_object('succeeded', false, 'error', d.new_error), c.now
  FROM dead d CROSS JOIN c
  WHERE d.parent_id IS NOT NULL AND EXISTS (SELECT 1 FROM workflow_runs r WHERE r.job_id = d.parent_id)
)
SELECT id::text, 'retry' AS outcome, failures, run_after FROM retried
UNION ALL
SELECT id::text, 'failed', failures, NULL FROM buried
