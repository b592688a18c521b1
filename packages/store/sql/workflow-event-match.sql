-- The subscriptions an event's data matches (the mask is contained in it), locked FOR SHARE in a
-- fixed order until commit: a wait_for_event starting on one of them waits for this raise to end.
-- Params: $1 data jsonb.
-- Returns job_id, name.
SELECT s.job_id::text AS job_id, s.name FROM workflow_subscriptions s WHERE $1::jsonb @> s.mask
ORDER BY s.job_id, s.name FOR SHARE
