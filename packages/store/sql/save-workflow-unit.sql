-- Stores a compiled unit as the next version of its name (1 for a new name). Two loads of one name
-- at the same moment: the second fails with a unique violation on (name, version) and stores nothing.
-- Params: $1 name, $2 kind, $3 tags text[], $4 source, $5 unit jsonb, $6 compiled jsonb (null unless a workflow), $7 now (null: database clock),
--         $8 signature jsonb (null: none).
-- Returns id, name, kind, version.
INSERT INTO workflow_units (name, kind, version, tags, source, source_md5, unit, compiled, created_at, signature)
SELECT $1, $2, coalesce((SELECT max(version) FROM workflow_units WHERE name = $1), 0) + 1, $3::text[], $4, md5($4),
       $5::jsonb, $6::jsonb, coalesce($7::timestamptz, statement_timestamp()), $8::jsonb
RETURNING id::text, name, kind, version
