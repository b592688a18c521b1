-- Deletes idempotency keys past their retention: an insert with such a key creates a new job again.
-- Params: $1 limit int, $2 now (null: database clock).
-- Returns trimmed: how many keys were deleted.
WITH gone AS (
  DELETE FROM idempotency_keys
  WHERE key IN (
    SELECT key FROM idempotency_keys
    WHERE expires_at <= coalesce($2::timestamptz, statement_timestamp())
    ORDER BY expires_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
  )
  RETURNING key
)
SELECT count(*)::int AS trimmed FROM gone
