-- Finds the ids of jobs, live or finished, whose arg contains a JSON value (JobCenter's find_jobs),
-- newest first. Each arm is bounded on its own, the finished one through its GIN index
-- (finished_jobs_arg; the live table is small and has none, see 0007); one statement, so a job moving between the tables counts once.
-- Params: $1 filter jsonb, $2 before id bigint (keyset pagination; null: from the newest), $3 limit int,
--   $4 owner: only jobs this API client created (null: anyone's; see 0008).
-- Returns id, funcname.
SELECT id::text, funcname FROM (
  (SELECT id, funcname FROM jobs
   WHERE arg @> $1::jsonb AND ($2::bigint IS NULL OR id < $2::bigint)
     AND ($4::text IS NULL OR id IN (SELECT job_id FROM job_owners WHERE who = $4::text))
   ORDER BY id DESC LIMIT $3)
  UNION ALL
  (SELECT id, funcname FROM finished_jobs
   WHERE arg @> $1::jsonb AND ($2::bigint IS NULL OR id < $2::bigint)
     AND ($4::text IS NULL OR id IN (SELECT job_id FROM job_owners WHERE who = $4::text))
   ORDER BY id DESC LIMIT $3)
) found
ORDER BY found.id DESC
LIMIT $3
