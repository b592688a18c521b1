-- Reads one trigger and locks it for the rest of the transaction: an update reads, merges and
-- writes under the lock, after a fire of it in flight has committed.
-- Params: $1 id bigint.
-- Returns the trigger, or no row.
SELECT t.id::text AS id, t.spec, t.type, t.args, t.time_zone, t.funcname, t.arg, t.priority, t.max_retries, t.timeout_ms,
       t.uniqkey, t.debounce_ms, t.catch_up, t.enabled, t.next_fire_at, t.fires::text AS fires, t.last_fired_at,
       t.last_job_id::text AS last_job_id, t.last_success_at, t.last_success_job_id::text AS last_success_job_id,
       t.last_failure_at, t.last_failure_job_id::text AS last_failure_job_id, t.last_error, t.created_at, t.updated_at,
       t.webhook_id, t.webhook_secret
FROM triggers t
WHERE t.id = $1
FOR UPDATE
