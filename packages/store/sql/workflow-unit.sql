-- Reads one version of one stored name, of any kind, picked as list-workflow-units.sql picks it for tag $2.
-- Params: $1 name, $2 tag text (null: none asked).
-- Returns id, name, kind, version, tags, signature, source, loaded_at, latest_version; no row when the name was never loaded.
SELECT id::text, name, kind, version, tags, signature, source, created_at AS loaded_at,
       (SELECT max(version) FROM workflow_units WHERE name = $1) AS latest_version
FROM workflow_units
WHERE name = $1
ORDER BY ($2::text IS NOT NULL AND tags @> ARRAY[$2::text]) DESC, (tags = '{}') DESC, version DESC
LIMIT 1
