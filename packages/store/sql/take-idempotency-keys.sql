-- Takes idempotency keys for jobs about to be inserted, each with a job id drawn now. A key that
-- exists is not taken; a key held by a transaction in flight makes this wait for its outcome, so
-- two inserts with one key cannot both take it. Keys are taken in key order (no deadlock between
-- batches); a key twice in the input is taken once.
-- Params: $1 key text[], $2 retention ms bigint, $3 now (null: database clock).
-- Returns key, job_id for each key taken by this statement.
WITH clock AS (
  SELECT coalesce($3::timestamptz, statement_timestamp()) AS now
)
INSERT INTO idempotency_keys (key, job_id, expires_at)
SELECT k.key, nextval(pg_get_serial_sequence('jobs', 'id')), c.now + $2::bigint * interval '1 millisecond'
FROM (SELECT DISTINCT key FROM unnest($1::text[]) AS u(key)) k CROSS JOIN clock c
ORDER BY k.key
ON CONFLICT (key) DO NOTHING
RETURNING key, job_id::text
