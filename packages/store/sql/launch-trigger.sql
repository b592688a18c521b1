-- Launches a trigger now (cozy-stack's launch; how @client triggers fire): inserts one of its jobs,
-- ready at once and carrying its id, and records the execution; its schedule is unchanged.
-- Params: $1 id bigint, $2 now (null: database clock).
-- Returns found (whether the trigger exists), job_id (the new job, or the live job holding its
-- uniqkey when that one was live; null only if that holder finished in the meantime), inserted.
WITH c AS (
  SELECT coalesce($2::timestamptz, statement_timestamp()) AS now
), t AS (
  SELECT * FROM triggers WHERE id = $1 FOR UPDATE
), made AS (
  INSERT INTO jobs (funcname, arg, uniqkey, state, priority, run_after, max_retries, timeout_ms, created_at, trigger_id)
  SELECT t.funcname, t.arg, t.uniqkey, 'ready', t.priority, c.now, t.max_retries, t.timeout_ms, c.now, t.id
  FROM t CROSS JOIN c
  ON CONFLICT (funcname, uniqkey) WHERE uniqkey IS NOT NULL DO NOTHING
  RETURNING id
), recorded AS (
  UPDATE triggers tr SET fires = tr.fires + 1, last_fired_at = c.now, last_job_id = m.id, updated_at = c.now
  FROM made m CROSS JOIN c
  WHERE tr.id = $1
)
SELECT EXISTS (SELECT 1 FROM t) AS found,
       coalesce((SELECT id FROM made), (SELECT j.id FROM jobs j JOIN t ON j.funcname = t.funcname AND j.uniqkey = t.uniqkey))::text AS job_id,
       EXISTS (SELECT 1 FROM made) AS inserted
