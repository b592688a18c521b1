-- Replaces a client's token hash: from the commit on, only the new token verifies.
-- Params: $1 who, $2 token_hash, $3 now (null: database clock).
-- Returns the client (without its hash); no row when there is no such client.
UPDATE api_clients SET token_hash = $2, rotated_at = coalesce($3::timestamptz, statement_timestamp())
WHERE who = $1
RETURNING who, call_patterns, work_patterns, admin, certificate_cn, created_at, rotated_at
