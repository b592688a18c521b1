-- Inserts a workflow's child job: an ordinary ready job (dispatched, claimed and finished like any
-- other) whose parent_id makes its final outcome a wake-up for the parent's run. No uniqkey.
-- Params: $1 funcname, $2 arg jsonb, $3 priority smallint, $4 max_retries int, $5 parent_id bigint (null: detached), $6 now (null: database clock).
-- Returns id.
WITH c AS (
  SELECT coalesce($6::timestamptz, statement_timestamp()) AS now
)
INSERT INTO jobs (funcname, arg, state, priority, run_after, max_retries, created_at, parent_id)
SELECT $1, $2::jsonb, 'ready', $3::smallint, c.now, $4::int, c.now, $5::bigint
FROM c
RETURNING id::text
