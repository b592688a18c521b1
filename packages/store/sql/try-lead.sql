-- Takes a named leadership for this session if nobody holds it (a session advisory lock, released
-- when the session ends, so a leader that dies frees it at once). Keyed by the schema, so each
-- namespace has its own leaders.
-- Params: $1 name text.
-- Returns leading boolean.
SELECT pg_try_advisory_lock(hashtextextended(current_schema() || '.' || $1, 0)) AS leading
