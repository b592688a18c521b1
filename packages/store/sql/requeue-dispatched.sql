-- Gives dispatched jobs back to ready, so the relay publishes them again: the messages of those
-- functions were lost (an in-memory broker that restarted, or a broker restart that dropped
-- non-persistent messages). A job whose message did survive gets a duplicate, which is harmless.
-- Params: $1 funcname text[] (null: every function).
-- Returns requeued: how many jobs.
WITH requeued AS (
  UPDATE jobs SET state = 'ready', dispatched_at = NULL
  WHERE state = 'dispatched' AND ($1::text[] IS NULL OR funcname = ANY ($1::text[]))
  RETURNING 1
)
SELECT count(*)::int AS requeued FROM requeued
