-- Stand-in for the workflow engine's migration, so that 0013 (workflow locks and events) applies
-- and can be tested on its own branch: only the wakeup queue and the parent links it relies on.
-- The engine's own 0012_workflows.sql replaces this file when the branches meet.

-- What wakes a workflow run: a child's end, an event, a granted lock, a cancel, its start.
CREATE TABLE workflow_wakeups (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id bigint NOT NULL,
  kind text NOT NULL CHECK (kind IN ('child', 'event', 'lock', 'cancel', 'start')),
  child_id bigint,
  payload jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A child job's parent workflow job (null for a job nobody's workflow made).
ALTER TABLE jobs ADD COLUMN parent_id bigint;
ALTER TABLE finished_jobs ADD COLUMN parent_id bigint;
