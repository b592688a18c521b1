-- Gives dispatched jobs back to ready, so the relay publishes them again: the messages of those
-- functions were lost (an in-memory broker that restarted, or a broker restart that dropped
-- non-persistent messages). A job whose message did survive gets a duplicate, which is harmless.
-- Works through a bounded batch, rows locked in id order (as claims lock them, so the two cannot
-- deadlock); a job claimed meanwhile is left alone. The caller repeats until a batch comes back short.
-- Params: $1 funcname text[] (null: every function), $2 limit int.
-- Returns requeued: how many jobs.
WITH picked AS (
  SELECT id FROM jobs
  WHERE state = 'dispatched' AND ($1::text[] IS NULL OR funcname = ANY ($1::text[]))
  ORDER BY id
  LIMIT $2
  FOR UPDATE
), requeued AS (
  UPDATE jobs j SET state = 'ready', dispatched_at = NULL
  FROM picked p
  WHERE j.id = p.id
  RETURNING 1
)
SELECT count(*)::int AS requeued FROM requeued
