-- Lists triggers newest first, optionally of one function, a page at a time.
-- Params: $1 funcname (null: any), $2 before id bigint (null: from the newest), $3 limit int.
-- Returns the triggers.
SELECT t.id::text AS id, t.spec, t.type, t.args, t.time_zone, t.funcname, t.arg, t.priority, t.max_retries, t.timeout_ms,
       t.uniqkey, t.debounce_ms, t.catch_up, t.enabled, t.next_fire_at, t.fires::text AS fires, t.last_fired_at,
       t.last_job_id::text AS last_job_id, t.last_success_at, t.last_success_job_id::text AS last_success_job_id,
       t.last_failure_at, t.last_failure_job_id::text AS last_failure_job_id, t.last_error, t.created_at, t.updated_at,
       t.webhook_id, t.webhook_secret
FROM triggers t
WHERE ($1::text IS NULL OR t.funcname = $1) AND ($2::bigint IS NULL OR t.id < $2)
ORDER BY t.id DESC
LIMIT $3
