-- Workflow version tags and named JSON Schemas (JobCenter's vtag and json_schemas).
--
-- A job may ask for a workflow version by tag (create_job's vtag, the client's `tag`). The tag is
-- kept in a side table written in the insert's transaction, not in a column of jobs: few jobs ask
-- for one, and a column would widen every job row (and finished_jobs, and the insert statements
-- every producer runs) for them. The engine reads it in the transaction that starts the run; from
-- then on the run names its unit row, so the version is fixed. The row stays while the job exists
-- (live or finished), so a retried workflow asks for the same tag; the engine's trim removes it after.
CREATE TABLE workflow_job_tags (
  job_id  bigint PRIMARY KEY,
  tag     text   NOT NULL CHECK (length(tag) BETWEEN 1 AND 200)
);

-- Named JSON Schemas that `in:`/`out:`/`env:` lines may use as types. Saving one replaces the
-- schema of that name; the engines rebuild their type checkers on the same NOTIFY a unit save sends.
CREATE TABLE json_schemas (
  name        text        PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 200),
  schema      jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER json_schemas_notify AFTER INSERT OR UPDATE ON json_schemas
  FOR EACH STATEMENT EXECUTE FUNCTION notify_workflow_units();
