-- Points idempotency keys at the job that was there before: an insert that took a key but met a
-- live job with the same (funcname, uniqkey) inserted nothing, and its key must say so.
-- Params: $1 key text[], $2 job_id bigint[] (pairwise).
-- Returns key for each key updated.
UPDATE idempotency_keys k
SET job_id = u.job_id
FROM unnest($1::text[], $2::bigint[]) AS u(key, job_id)
WHERE k.key = u.key
RETURNING k.key
