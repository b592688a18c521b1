-- Inserts a workflow's child job: an ordinary ready job (dispatched, claimed and finished like any
-- other) whose parent_id makes its final outcome a wake-up for the parent's run. No uniqkey.
-- A child that is a workflow asks for the version tag job $7 asked for (workflow_job_tags), in the
-- same statement: the tag a workflow runs under reaches every workflow it starts.
-- Params: $1 funcname, $2 arg jsonb, $3 priority smallint, $4 max_retries int, $5 parent_id bigint (null: detached), $6 now (null: database clock),
--         $7 the job whose tag the child inherits bigint (null: none).
-- Returns id.
WITH c AS (
  SELECT coalesce($6::timestamptz, statement_timestamp()) AS now
), child AS (
  INSERT INTO jobs (funcname, arg, state, priority, run_after, max_retries, created_at, parent_id)
  SELECT $1, $2::jsonb, 'ready', $3::smallint, c.now, $4::int, c.now, $5::bigint
  FROM c
  RETURNING id
), tagged AS (
  INSERT INTO workflow_job_tags (job_id, tag)
  SELECT child.id, t.tag
  FROM child JOIN workflow_job_tags t ON t.job_id = $7::bigint
  WHERE EXISTS (SELECT 1 FROM workflow_units u WHERE u.name = $1 AND u.kind = 'workflow')
)
SELECT id::text FROM child
