-- Finds jobs, live or finished, newest first (JobCenter's find_jobs). Every filter is optional.
-- Params: $1 states text[] (null: any), $2 funcname (null: any), $3 arg containment jsonb (null: any),
--   $4 before id bigint (keyset pagination; null: from the newest), $5 limit int,
--   $6 owner: only jobs this API client created (null: anyone's; see 0008).
-- Returns all_jobs columns.
SELECT id::text, funcname, arg, uniqkey, state, priority, run_after, coalesce_key, max_retries, timeout_ms,
       attempts, failures, grabbed_until, created_at, finished_at, result
FROM all_jobs
WHERE ($1::text[] IS NULL OR state = ANY ($1::text[]))
  AND ($2::text IS NULL OR funcname = $2::text)
  AND ($3::jsonb IS NULL OR arg @> $3::jsonb)
  AND ($4::bigint IS NULL OR all_jobs.id < $4::bigint)
  AND ($6::text IS NULL OR all_jobs.id IN (SELECT job_id FROM job_owners WHERE who = $6::text))
-- all_jobs.id, not the id::text output column: sorting text would put '9' above '12'.
ORDER BY all_jobs.id DESC
LIMIT $5
