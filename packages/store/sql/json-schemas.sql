-- Lists the stored named JSON Schemas (what a type checker registers).
-- Params: none.
-- Returns name, schema, by name.
SELECT name, schema FROM json_schemas ORDER BY name
