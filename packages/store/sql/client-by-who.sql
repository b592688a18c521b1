-- Reads one client with its token hash, for verifying a token (the hash never leaves the store).
-- Params: $1 who.
-- Returns the client and token_hash; no row when unknown.
SELECT who, call_patterns, work_patterns, admin, certificate_cn, created_at, rotated_at, token_hash
FROM api_clients WHERE who = $1
