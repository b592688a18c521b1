-- Reads the outcomes of finished jobs: what a waiting caller is told (job_done), in one query for
-- a notification's ids or for every awaited id after the listener reconnected.
-- Params: $1 id bigint[].
-- Returns id, state, result, error (the last failure's message, null when none) for each finished id.
SELECT f.id::text, f.state, f.result,
       (SELECT e.error FROM job_failures e WHERE e.job_id = f.id ORDER BY e.attempt DESC LIMIT 1) AS error
FROM finished_jobs f
WHERE f.id = ANY ($1::bigint[])
