-- Reads one job, live or finished, with its failure log, in one snapshot (a job moving between
-- tables is seen exactly once).
-- Params: $1 id bigint.
-- Returns all_jobs columns plus failure_log (a JSON array of {attempt, error, failedAt}, oldest first); no row when unknown.
SELECT j.id::text, j.funcname, j.arg, j.uniqkey, j.state, j.priority, j.run_after, j.coalesce_key, j.max_retries,
       j.timeout_ms, j.attempts, j.failures, j.grabbed_until, j.created_at, j.finished_at, j.result,
       coalesce((SELECT json_agg(json_build_object('attempt', f.attempt, 'error', f.error, 'failedAt', f.failed_at) ORDER BY f.attempt)
                 FROM job_failures f WHERE f.job_id = j.id), '[]'::json) AS failure_log
FROM all_jobs j
WHERE j.id = $1
