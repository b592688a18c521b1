-- Lists the newest version of every stored workflow: the funcnames whose queues the engines consume.
-- Params: none.
-- Returns id, name, kind, version, by name.
SELECT DISTINCT ON (name) id::text, name, kind, version
FROM workflow_units
WHERE kind = 'workflow'
ORDER BY name, version DESC
