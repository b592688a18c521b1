-- Registers an API client, unless its name or its certificate CN is taken.
-- Params: $1 who, $2 token_hash, $3 call_patterns text[], $4 work_patterns text[], $5 admin, $6 certificate_cn (null: none), $7 now (null: database clock).
-- Returns the client (without its hash); no row when the name or the CN was taken.
INSERT INTO api_clients (who, token_hash, call_patterns, work_patterns, admin, certificate_cn, created_at)
VALUES ($1, $2, $3::text[], $4::text[], $5, $6, coalesce($7::timestamptz, statement_timestamp()))
ON CONFLICT DO NOTHING
RETURNING who, call_patterns, work_patterns, admin, certificate_cn, created_at, rotated_at
