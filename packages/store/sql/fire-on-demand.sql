-- Fires @event or @webhook triggers for one event or delivery, in the transaction that locked them
-- (lock-triggers.sql, id order): each enabled one outside its debounce window inserts its job, its
-- arg { "arg": <the trigger's arg>, <$2>: <$3> }, ready at once, or, debounced, scheduled
-- debounce_ms later, opening a window until then in which further fires create nothing.
-- Params: $1 trigger ids bigint[], $2 key text ('event' or 'webhook'), $3 payload jsonb, $4 now (null: database clock).
-- Returns one row per job inserted: job_id. A job whose (funcname, uniqkey) is live is not inserted.
WITH c AS (
  SELECT coalesce($4::timestamptz, statement_timestamp()) AS now
), go AS (
  SELECT t.id, t.funcname, t.arg, t.uniqkey, t.priority, t.max_retries, t.timeout_ms, t.debounce_ms,
         c.now + coalesce(t.debounce_ms, 0) * interval '1 millisecond' AS run_at
  FROM triggers t CROSS JOIN c
  -- The type is checked again under the lock: a trigger changed since it was matched does not fire as what it was.
  WHERE t.id = ANY($1::bigint[]) AND t.enabled AND t.type = $2::text
    AND (t.debounce_ms IS NULL OR t.debounce_until IS NULL OR t.debounce_until <= c.now)
), made AS (
  INSERT INTO jobs (funcname, arg, uniqkey, state, priority, run_after, max_retries, timeout_ms, created_at, trigger_id)
  SELECT go.funcname, jsonb_build_object('arg', go.arg, $2::text, $3::jsonb), go.uniqkey,
         CASE WHEN go.run_at <= c.now THEN 'ready' ELSE 'scheduled' END,
         go.priority, go.run_at, go.max_retries, go.timeout_ms, c.now, go.id
  FROM go CROSS JOIN c
  ORDER BY go.id
  ON CONFLICT (funcname, uniqkey) WHERE uniqkey IS NOT NULL DO NOTHING
  RETURNING id, trigger_id
), recorded AS (
  UPDATE triggers t
  SET fires = t.fires + (m.id IS NOT NULL)::int,
      last_fired_at = CASE WHEN m.id IS NOT NULL THEN c.now ELSE t.last_fired_at END,
      last_job_id = coalesce(m.id, t.last_job_id),
      -- A window opens only behind a job it made: one refused by a live uniqkey holder opens none,
      -- or the events after that holder finished would fall into a window with nothing pending.
      debounce_until = CASE WHEN go.debounce_ms IS NULL THEN NULL WHEN m.id IS NULL THEN t.debounce_until ELSE go.run_at END,
      updated_at = c.now
  FROM go LEFT JOIN made m ON m.trigger_id = go.id CROSS JOIN c
  WHERE t.id = go.id
)
SELECT id::text AS job_id FROM made ORDER BY id
