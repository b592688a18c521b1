-- Marks jobs dispatched once the broker confirmed their messages: each row only if it is still the
-- version the relay read (xmin unchanged), so a job claimed, failed or given back meanwhile keeps
-- its new state and is published again. A row locked by someone else (a worker claiming it right
-- now) is skipped, not waited for: waiting, with rows locked in whatever order the batch came in,
-- could deadlock with a worker's id-ordered claim (seen here as one-second stalls, PostgreSQL's
-- deadlock_timeout). A skipped job is either claimed or, if that claim failed, published again.
-- The commit does not wait for the disk: a mark lost in a crash only makes the relay publish the
-- job again, and a duplicate message is harmless.
-- Params: $1 id bigint[], $2 version text[] (pairwise), $3 now (null: database clock).
-- Returns how many rows were marked.
WITH async AS (
  SELECT set_config('synchronous_commit', 'off', true)
), target AS (
  SELECT j.id
  FROM jobs j JOIN unnest($1::bigint[], $2::text[]) AS i(id, version) ON j.id = i.id
  WHERE j.xmin::text = i.version
  FOR UPDATE OF j SKIP LOCKED
), marked AS (
  UPDATE jobs j SET state = 'dispatched', dispatched_at = coalesce($3::timestamptz, statement_timestamp())
  FROM target t, async
  WHERE j.id = t.id
  RETURNING 1
)
SELECT count(*)::int AS marked FROM marked
