-- The jobs a trigger created, live or finished, newest first, a page at a time (indexes of 0011).
-- Params: $1 trigger id bigint, $2 before id bigint (keyset pagination; null: from the newest), $3 limit int.
-- Returns the jobs' columns as find-jobs.sql does.
-- Each table is read by its own index and limited before the union, so a page costs two short
-- index scans however many jobs the trigger has made.
SELECT j.id::text AS id, j.funcname, j.arg, j.uniqkey, j.state, j.priority, j.run_after, j.coalesce_key, j.max_retries,
       j.timeout_ms, j.attempts, j.failures, j.grabbed_until, j.created_at, j.finished_at, j.result
FROM (
  (SELECT id, funcname, arg, uniqkey, state, priority, run_after, coalesce_key, max_retries, timeout_ms,
          attempts, failures, grabbed_until, created_at, NULL::timestamptz AS finished_at, 'null'::jsonb AS result
   FROM jobs
   WHERE trigger_id = $1::bigint AND ($2::bigint IS NULL OR id < $2::bigint)
   ORDER BY id DESC
   LIMIT $3)
  UNION ALL
  (SELECT id, funcname, arg, uniqkey, state, priority, run_after, coalesce_key, max_retries, timeout_ms,
          attempts, failures, NULL::timestamptz, created_at, finished_at, result
   FROM finished_jobs
   WHERE trigger_id = $1::bigint AND ($2::bigint IS NULL OR id < $2::bigint)
   ORDER BY id DESC
   LIMIT $3)
) j
ORDER BY j.id DESC
LIMIT $3
