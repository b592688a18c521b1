-- Stores a named JSON Schema, replacing the schema of that name (the caller checked it compiles).
-- Params: $1 name text, $2 schema jsonb, $3 now (null: database clock).
-- Returns name.
INSERT INTO json_schemas (name, schema, created_at) VALUES ($1, $2::jsonb, coalesce($3::timestamptz, statement_timestamp()))
ON CONFLICT (name) DO UPDATE SET schema = EXCLUDED.schema, created_at = EXCLUDED.created_at
RETURNING name
