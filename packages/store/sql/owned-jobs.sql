-- Which of these jobs an API client created.
-- Params: $1 who, $2 job ids bigint[].
-- Returns id.
SELECT job_id::text AS id FROM job_owners WHERE who = $1 AND job_id = ANY ($2::bigint[])
