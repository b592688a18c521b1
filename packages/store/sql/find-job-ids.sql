-- Finds the ids of jobs, live or finished, whose arg contains a JSON value (JobCenter's find_jobs),
-- newest first. Each arm is bounded on its own, the finished one through its GIN index
-- (finished_jobs_arg; the live table is small and has none, see 0007); one statement, so a job moving between the tables counts once.
-- Params: $1 filter jsonb, $2 before id bigint (keyset pagination; null: from the newest), $3 limit int.
-- Returns id, funcname.
SELECT id::text, funcname FROM (
  (SELECT id, funcname FROM jobs
   WHERE arg @> $1::jsonb AND ($2::bigint IS NULL OR id < $2::bigint)
   ORDER BY id DESC LIMIT $3)
  UNION ALL
  (SELECT id, funcname FROM finished_jobs
   WHERE arg @> $1::jsonb AND ($2::bigint IS NULL OR id < $2::bigint)
   ORDER BY id DESC LIMIT $3)
) found
ORDER BY found.id DESC
LIMIT $3
