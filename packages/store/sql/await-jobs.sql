-- Marks live jobs as awaited by a caller, so that their finishing NOTIFYs `<schema>_finished`.
-- FOR KEY SHARE: a job moving to finished_jobs right now (a DELETE) either waits for this mark and
-- then sees it, or has gone, and the job is not returned: the caller reads its outcome instead.
-- Params: $1 id bigint[].
-- Returns id for each job that is live (and now awaited); finished or unknown ids are missing.
WITH live AS (
  SELECT id FROM jobs WHERE id = ANY ($1::bigint[]) FOR KEY SHARE
), marked AS (
  INSERT INTO awaited_jobs (id) SELECT id FROM live ON CONFLICT DO NOTHING
)
SELECT id::text FROM live
