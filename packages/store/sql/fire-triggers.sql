-- The second half of firing, in the transaction that locked the triggers: inserts their jobs
-- (each carrying its trigger's id, run_after its tick) and moves each trigger to its next fire
-- time, so the jobs and the fire commit together. A job whose (funcname, uniqkey) is live is not
-- inserted (the fire still counts as done).
-- Params: $1 trigger id bigint[], $2 next_fire_at timestamptz[], $3 last tick timestamptz[] (pairwise; a
--   null tick: no job this time); $4 job trigger id bigint[], $5 job tick timestamptz[] (pairwise, in order);
--   $6 now (null: database clock).
-- Returns triggers (how many moved on) and jobs (how many inserted). Wakes the relay through the jobs
-- table's insert trigger.
WITH c AS (
  SELECT coalesce($6::timestamptz, statement_timestamp()) AS now
), made AS (
  INSERT INTO jobs (funcname, arg, uniqkey, state, priority, run_after, max_retries, timeout_ms, created_at, trigger_id)
  SELECT t.funcname, t.arg, t.uniqkey, CASE WHEN i.tick <= c.now THEN 'ready' ELSE 'scheduled' END,
         t.priority, i.tick, t.max_retries, t.timeout_ms, c.now, t.id
  FROM unnest($4::bigint[], $5::timestamptz[]) WITH ORDINALITY AS i(trigger_id, tick, ord)
  JOIN triggers t ON t.id = i.trigger_id
  CROSS JOIN c
  ORDER BY i.ord
  ON CONFLICT (funcname, uniqkey) WHERE uniqkey IS NOT NULL DO NOTHING
  RETURNING id, trigger_id
), per_trigger AS (
  SELECT trigger_id, max(id) AS last_job_id, count(*) AS n FROM made GROUP BY trigger_id
), moved AS (
  UPDATE triggers t
  SET next_fire_at = u.next_fire_at,
      fires = t.fires + coalesce(p.n, 0),
      last_fired_at = CASE WHEN p.n > 0 THEN u.tick ELSE t.last_fired_at END,
      last_job_id = coalesce(p.last_job_id, t.last_job_id),
      updated_at = c.now
  FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[]) AS u(id, next_fire_at, tick)
  LEFT JOIN per_trigger p ON p.trigger_id = u.id
  CROSS JOIN c
  WHERE t.id = u.id
  RETURNING t.id
)
SELECT (SELECT count(*) FROM moved)::int AS triggers, (SELECT count(*) FROM made)::int AS jobs
