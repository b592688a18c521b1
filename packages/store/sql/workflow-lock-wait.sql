-- Records that a job waits for a workflow lock (replacing an earlier wait of the job: one at a time).
-- Params: $1 job_id bigint, $2 lock_type text, $3 lock_value text, $4 inherit boolean, $5 ancestors bigint[], $6 now timestamptz (null: the database's), $7 until timestamptz.
-- Returns nothing.
INSERT INTO workflow_lock_waits (job_id, lock_type, lock_value, inherit, ancestors, since, until)
VALUES ($1::bigint, $2, $3, $4, $5::bigint[], coalesce($6::timestamptz, now()), $7::timestamptz)
ON CONFLICT (job_id) DO UPDATE SET lock_type = EXCLUDED.lock_type, lock_value = EXCLUDED.lock_value, inherit = EXCLUDED.inherit,
  ancestors = EXCLUDED.ancestors, since = EXCLUDED.since, until = EXCLUDED.until
