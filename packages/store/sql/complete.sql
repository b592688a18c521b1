-- Completes running jobs whose grab token matches: each leaves the live table, and its exit status
-- (the row as completed, with its result) is kept in finished_jobs until now + keep_ms. With a
-- keep_ms of 0 nothing is kept (TheSchwartz's default): the job and its failure log are simply
-- deleted, saving a write per job. A stale token matches nothing, so it changes nothing.
-- Params: $1 id bigint[], $2 grab_token bigint[], $3 result jsonb[], $4 keep_ms bigint[] (pairwise), $5 now (null: database clock).
-- Returns the ids completed; an id missing from the result was refused (lease lost, cancelled or already finished).
WITH c AS (
  SELECT coalesce($5::timestamptz, statement_timestamp()) AS now
), done AS (
  DELETE FROM jobs j
  USING unnest($1::bigint[], $2::bigint[], $3::jsonb[], $4::bigint[]) AS i(id, token, result, keep_ms)
  WHERE j.id = i.id AND j.grab_token = i.token AND j.state = 'running'
  RETURNING j.*, i.result AS new_result, i.keep_ms
), kept AS (
  INSERT INTO finished_jobs (id, funcname, arg, uniqkey, state, priority, run_after, coalesce_key, max_retries, timeout_ms, attempts, failures, result, created_at, finished_at, delete_after)
  SELECT d.id, d.funcname, d.arg, d.uniqkey, 'completed', d.priority, d.run_after, d.coalesce_key, d.max_retries,
         d.timeout_ms, d.attempts, d.failures, d.new_result, d.created_at, c.now, c.now + d.keep_ms * interval '1 millisecond'
  FROM done d CROSS JOIN c
  WHERE d.keep_ms > 0
), forgotten_failures AS (
  DELETE FROM job_failures f USING done d WHERE d.keep_ms = 0 AND d.failures > 0 AND f.job_id = d.id
)
SELECT id::text FROM done
