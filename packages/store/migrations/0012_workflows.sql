-- Workflows (JobCenter's language): the stored programs, and the runtime that drives a workflow
-- job step by step.
--
-- A workflow is an ordinary job whose funcname names a loaded workflow. Its run (program counter,
-- variables, what it waits for) lives in workflow_runs, written in the same transaction as each
-- step's effects. Each call of an action is a child job: an ordinary job with parent_id set.
-- Every statement that finishes a job with a parent (completion, final failure, cancel) appends
-- the child's outcome to workflow_wakeups in the same statement, as trigger_outcomes does for
-- triggers; the engine consumes that queue.

-- Compiled units, versioned by name. `unit` is the syntax tree, `compiled` the step machine's
-- program (workflows only). A new load of a name gets the next version; running workflows keep
-- the version they started with (their run names the unit row).
CREATE TABLE workflow_units (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text        NOT NULL,
  kind        text        NOT NULL CHECK (kind IN ('workflow', 'action', 'procedure', 'interface')),
  version     int         NOT NULL CHECK (version > 0),
  tags        text[]      NOT NULL DEFAULT '{}',
  source      text        NOT NULL,
  source_md5  text        NOT NULL,
  unit        jsonb       NOT NULL,
  compiled    jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (name, version),
  CHECK ((kind = 'workflow') = (compiled IS NOT NULL))
);

-- Saving a unit tells the engines to refresh the workflows whose queues they consume. Units are
-- saved by hand, rarely: a NOTIFY per statement costs nothing here.
CREATE FUNCTION notify_workflow_units() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(TG_TABLE_SCHEMA || '_workflows', 'units');
  RETURN NULL;
END
$$;

CREATE TRIGGER workflow_units_notify AFTER INSERT ON workflow_units
  FOR EACH STATEMENT EXECUTE FUNCTION notify_workflow_units();

-- The parent of a child job. No default, so adding the columns rewrites neither table; producers'
-- inserts leave it null. Only children have an index entry.
ALTER TABLE jobs ADD COLUMN parent_id bigint;
ALTER TABLE finished_jobs ADD COLUMN parent_id bigint;
CREATE INDEX jobs_by_parent ON jobs (parent_id) WHERE parent_id IS NOT NULL;

-- One row per workflow job the engine drives (from its start to its end). While it exists the
-- job is running with grabbed_until 'infinity': the run, not a lease, protects it.
CREATE TABLE workflow_runs (
  job_id         bigint      PRIMARY KEY,
  unit_id        bigint      NOT NULL,
  depth          int         NOT NULL DEFAULT 0,
  parent_job_id  bigint,
  state          jsonb,
  waiting        jsonb,
  -- A sleep's end, or a wait's timeout: the engine steps the run (wake 'timer') once it has come.
  wake_at        timestamptz,
  steps          int         NOT NULL DEFAULT 0,
  started_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL
);
CREATE INDEX workflow_runs_wake_at ON workflow_runs (wake_at) WHERE wake_at IS NOT NULL;

-- Why a run must be stepped: a child's outcome ('child', payload { succeeded, result | error }),
-- an event or a granted lock (0013), the workflow job cancelled ('cancel'), a start ('start').
-- A queue, not an update of the run from each finishing child: a child's completion must not wait
-- on the lock of a run another engine is stepping.
CREATE TABLE workflow_wakeups (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id      bigint      NOT NULL,
  kind        text        NOT NULL CHECK (kind IN ('child', 'event', 'lock', 'cancel', 'start')),
  child_id    bigint,
  payload     jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workflow_wakeups_by_run ON workflow_wakeups (run_id, id);

-- Wakes the engines once per statement that appended wake-ups (a worker's batch of completions is
-- one NOTIFY), and not at all for a statement that appended none: the completion statements insert
-- through a CTE on every call, and a NOTIFY each time would serialize the workers' commits.
CREATE FUNCTION notify_workflow_wakeups() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM new_wakeups) THEN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_workflows', 'wake');
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER workflow_wakeups_notify AFTER INSERT ON workflow_wakeups
  REFERENCING NEW TABLE AS new_wakeups
  FOR EACH STATEMENT EXECUTE FUNCTION notify_workflow_wakeups();

-- What each step of a run did, for the job view: one row per advance of the step machine.
CREATE TABLE workflow_steps (
  job_id  bigint      NOT NULL,
  step    int         NOT NULL,
  at      timestamptz NOT NULL,
  kind    text        NOT NULL,
  detail  jsonb,
  PRIMARY KEY (job_id, step)
);
