-- Reads one stored workflow's program by unit id (a run keeps the version it started with).
-- Params: $1 unit id bigint.
-- Returns unit_id, name, version, compiled; no row when unknown or not a workflow.
SELECT id::text AS unit_id, name, version, compiled
FROM workflow_units
WHERE id = $1 AND kind = 'workflow'
