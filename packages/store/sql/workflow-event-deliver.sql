-- Delivers an event to the matched subscriptions: a job waiting for one of them loses its wait and
-- gets one 'event' wakeup; every other match is queued for a later wait_for_event. Run after
-- workflow-event-match.sql, in its own statement, so it sees waits committed while that one waited.
-- Params: $1 data jsonb, $2 job_ids bigint[], $3 names text[] (the matched pairs), $4 now timestamptz (null: the database's).
-- Returns event_id, woken (wakeups appended), queued (events queued).
WITH ev AS MATERIALIZED (
  SELECT nextval('workflow_event_ids') AS id, coalesce($4::timestamptz, now()) AS at
), matched AS (
  SELECT m.job_id, m.name FROM unnest($2::bigint[], $3::text[]) AS m(job_id, name)
), choice AS (
  -- A waiting job's wakeup names the first of the names it waits for that this event matched.
  SELECT w.job_id, (
    SELECT u.n FROM unnest(w.names) WITH ORDINALITY AS u(n, i)
    WHERE EXISTS (SELECT 1 FROM matched x WHERE x.job_id = w.job_id AND x.name = u.n) ORDER BY u.i LIMIT 1
  ) AS name
  FROM workflow_event_waits w WHERE w.job_id IN (SELECT job_id FROM matched)
), woken AS (
  DELETE FROM workflow_event_waits w USING choice c WHERE w.job_id = c.job_id AND c.name IS NOT NULL
  RETURNING w.job_id, c.name
), wakeups AS (
  INSERT INTO workflow_wakeups (run_id, kind, payload, created_at)
  SELECT k.job_id, 'event', jsonb_build_object('name', k.name, 'eventId', ev.id::text, 'when', ev.at, 'data', $1::jsonb), ev.at
  FROM woken k CROSS JOIN ev
  RETURNING run_id
), queued AS (
  INSERT INTO workflow_event_queue (job_id, name, event_id, raised_at, data)
  SELECT m.job_id, m.name, ev.id, ev.at, $1::jsonb FROM matched m CROSS JOIN ev
  WHERE NOT EXISTS (SELECT 1 FROM woken k WHERE k.job_id = m.job_id AND k.name = m.name)
  RETURNING job_id
)
SELECT ev.id::text AS event_id, (SELECT count(*) FROM wakeups)::int AS woken, (SELECT count(*) FROM queued)::int AS queued FROM ev
