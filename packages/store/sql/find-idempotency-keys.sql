-- Looks up the jobs that idempotency keys point at, in a fresh snapshot (after take-idempotency-keys.sql
-- found them taken, possibly by a transaction that committed after its snapshot).
-- Params: $1 key text[].
-- Returns key, job_id for each key that exists.
SELECT key, job_id::text
FROM idempotency_keys
WHERE key = ANY($1::text[])
