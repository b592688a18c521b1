-- Starts a wait_for_event: takes the oldest event queued for any of the names (consumed), or, when
-- there is none, records that the job waits for them (a later matching raise wakes it).
-- Params: $1 job_id bigint, $2 names text[], $3 now timestamptz (null: the database's).
-- Returns name, event_id, raised_at, data of the event taken; no row when the job now waits.
WITH taken AS (
  DELETE FROM workflow_event_queue q WHERE q.seq = (
    SELECT o.seq FROM workflow_event_queue o WHERE o.job_id = $1::bigint AND o.name = ANY ($2::text[]) ORDER BY o.event_id, o.seq LIMIT 1
  )
  RETURNING q.name, q.event_id, q.raised_at, q.data
), waiting AS (
  INSERT INTO workflow_event_waits (job_id, names, since)
  SELECT $1::bigint, $2::text[], coalesce($3::timestamptz, now()) WHERE NOT EXISTS (SELECT 1 FROM taken)
  ON CONFLICT (job_id) DO UPDATE SET names = EXCLUDED.names, since = EXCLUDED.since
  RETURNING job_id
)
SELECT t.name, t.event_id::text AS event_id, t.raised_at, t.data FROM taken t
