-- Lists a workflow job's live children (through the partial index jobs_by_parent).
-- Params: $1 parent id bigint.
-- Returns id, in id order.
SELECT id::text FROM jobs WHERE parent_id = $1 ORDER BY id
