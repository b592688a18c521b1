-- Stores a new trigger (validated by the caller, its first fire time computed there), and wakes
-- sleeping schedulers (channel <schema>_jobs, payload 'scheduled') so one due sooner than they planned fires on time.
-- Params: $1 spec, $2 type, $3 args, $4 time_zone, $5 funcname, $6 arg jsonb, $7 priority smallint, $8 max_retries int,
--   $9 timeout_ms int, $10 uniqkey, $11 debounce_ms int, $12 catch_up, $13 enabled boolean, $14 next_fire_at timestamptz,
--   $15 now (null: database clock), $16 webhook_id (a @webhook's, else null), $17 webhook_secret.
-- Returns the trigger (the trigger columns every trigger statement returns).
WITH c AS (
  SELECT coalesce($15::timestamptz, statement_timestamp()) AS now
), t AS (
  INSERT INTO triggers (spec, type, args, time_zone, funcname, arg, priority, max_retries, timeout_ms, uniqkey, debounce_ms, catch_up, enabled, next_fire_at, created_at, updated_at, webhook_id, webhook_secret)
  SELECT $1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13, $14, c.now, c.now, $16, $17 FROM c
  RETURNING *
)
SELECT t.id::text AS id, t.spec, t.type, t.args, t.time_zone, t.funcname, t.arg, t.priority, t.max_retries, t.timeout_ms,
       t.uniqkey, t.debounce_ms, t.catch_up, t.enabled, t.next_fire_at, t.fires::text AS fires, t.last_fired_at,
       t.last_job_id::text AS last_job_id, t.last_success_at, t.last_success_job_id::text AS last_success_job_id,
       t.last_failure_at, t.last_failure_job_id::text AS last_failure_job_id, t.last_error, t.created_at, t.updated_at,
       t.webhook_id, t.webhook_secret,
       pg_notify(current_schema() || '_jobs', 'scheduled') AS notified
FROM t
