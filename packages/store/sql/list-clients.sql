-- Lists every API client of the namespace by name, never with its token hash.
-- Params: none.
-- Returns one row per client.
SELECT who, call_patterns, work_patterns, admin, certificate_cn, created_at, rotated_at
FROM api_clients
ORDER BY who
