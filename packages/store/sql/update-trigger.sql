-- Rewrites a trigger's definition (the caller merged and validated it, and computed next_fire_at),
-- keeping its state, and wakes sleeping schedulers as insert-trigger does.
-- Params: $1 id bigint, then as insert-trigger: $2 spec, $3 type, $4 args, $5 time_zone, $6 funcname, $7 arg jsonb,
--   $8 priority, $9 max_retries, $10 timeout_ms, $11 uniqkey, $12 debounce_ms, $13 catch_up, $14 enabled, $15 next_fire_at,
--   $16 now (null: database clock), $17 webhook_id (a @webhook's, else null), $18 webhook_secret. A debounce
--   window in progress is kept (its job is scheduled); it ends when debounce is removed.
-- Returns the trigger, or no row when there is none.
WITH c AS (
  SELECT coalesce($16::timestamptz, statement_timestamp()) AS now
), t AS (
  UPDATE triggers SET spec = $2, type = $3, args = $4, time_zone = $5, funcname = $6, arg = $7::jsonb, priority = $8,
    max_retries = $9, timeout_ms = $10, uniqkey = $11, debounce_ms = $12, catch_up = $13, enabled = $14,
    next_fire_at = $15, updated_at = c.now, webhook_id = $17, webhook_secret = $18,
    debounce_until = CASE WHEN $12::int IS NULL THEN NULL ELSE debounce_until END
  FROM c
  WHERE id = $1
  RETURNING triggers.*
)
SELECT t.id::text AS id, t.spec, t.type, t.args, t.time_zone, t.funcname, t.arg, t.priority, t.max_retries, t.timeout_ms,
       t.uniqkey, t.debounce_ms, t.catch_up, t.enabled, t.next_fire_at, t.fires::text AS fires, t.last_fired_at,
       t.last_job_id::text AS last_job_id, t.last_success_at, t.last_success_job_id::text AS last_success_job_id,
       t.last_failure_at, t.last_failure_job_id::text AS last_failure_job_id, t.last_error, t.created_at, t.updated_at,
       t.webhook_id, t.webhook_secret,
       pg_notify(current_schema() || '_jobs', 'scheduled') AS notified
FROM t
