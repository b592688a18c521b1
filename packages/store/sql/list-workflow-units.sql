-- Lists the newest version of every stored name, of every kind: what a load compiles against and
-- what `drover workflows list` shows.
-- Params: none.
-- Returns id, name, kind, version, signature, source, loaded_at, by name.
SELECT DISTINCT ON (name) id::text, name, kind, version, signature, source, created_at AS loaded_at
FROM workflow_units
ORDER BY name, version DESC
