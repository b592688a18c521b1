-- Lists one version of every stored name, of every kind: the one a job asking for tag $1 would run
-- (the newest carrying it, else the newest default, untagged, version; resolve-workflow-version.sql's
-- rule), and for a name that has neither, its newest version, so nothing loaded is hidden. What a load
-- compiles against and what `drover workflows list` shows.
-- Params: $1 tag text (null: none asked).
-- Returns id, name, kind, version, tags, signature, source, loaded_at, latest_version (the name's newest version, any tags), by name.
SELECT DISTINCT ON (name) id::text, name, kind, version, tags, signature, source, created_at AS loaded_at,
       max(version) OVER (PARTITION BY name) AS latest_version
FROM workflow_units
ORDER BY name, ($1::text IS NOT NULL AND tags @> ARRAY[$1::text]) DESC, (tags = '{}') DESC, version DESC
