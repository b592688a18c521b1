-- Reads the client a client certificate's CN stands for.
-- Params: $1 certificate_cn.
-- Returns the client (without its hash); no row when no client has that CN.
SELECT who, call_patterns, work_patterns, admin, certificate_cn, created_at, rotated_at
FROM api_clients WHERE certificate_cn = $1
