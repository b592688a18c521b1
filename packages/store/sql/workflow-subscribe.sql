-- Subscribes a job to events whose data contains the mask; subscribing again under the same name
-- replaces the mask (events queued under the old one stay queued).
-- Params: $1 job_id bigint, $2 name text, $3 mask jsonb (an object), $4 now timestamptz (null: the database's).
-- Returns nothing.
INSERT INTO workflow_subscriptions (job_id, name, mask, created_at)
VALUES ($1::bigint, $2, $3::jsonb, coalesce($4::timestamptz, now()))
ON CONFLICT (job_id, name) DO UPDATE SET mask = EXCLUDED.mask
