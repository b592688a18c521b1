-- Reads the newest version of one stored name, of any kind.
-- Params: $1 name.
-- Returns id, name, kind, version, signature, source, loaded_at; no row when the name was never loaded.
SELECT id::text, name, kind, version, signature, source, created_at AS loaded_at
FROM workflow_units
WHERE name = $1
ORDER BY version DESC
LIMIT 1
