-- Deletes a trigger. Its live jobs run on; their outcomes, once folded, find no trigger and are dropped.
-- Params: $1 id bigint.
-- Returns the id, or no row when there was none.
DELETE FROM triggers WHERE id = $1 RETURNING id::text
