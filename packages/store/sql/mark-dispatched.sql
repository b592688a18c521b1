-- Marks jobs as dispatched once the broker confirmed their messages (run in the relay's
-- transaction, on rows it locked). A job claimed or cancelled meanwhile is left alone.
-- Params: $1 id bigint[], $2 now (null: database clock).
-- Returns how many rows were marked.
WITH marked AS (
  UPDATE jobs SET state = 'dispatched', dispatched_at = coalesce($2::timestamptz, statement_timestamp())
  WHERE id = ANY ($1::bigint[]) AND state IN ('ready', 'dispatched')
  RETURNING 1
)
SELECT count(*)::int AS marked FROM marked
