-- Workflow locks and events (JobCenter's lock / unlock / wait_for_lock and subscribe /
-- raise_event / wait_for_event). Names no schema: the migrator sets search_path.
--
-- Every change to the four lock-side tables below is made under one transaction-scoped advisory
-- lock per namespace (see sql/workflow-lock-guard.sql): the lock-wait graph is then read and
-- changed by one transaction at a time, so a deadlock check cannot miss a wait being added at the
-- same moment, and two jobs racing for one lock are decided one after the other.

-- A held lock. `holder` took it; while the holder waits for its children, a descendant may use an
-- `inherit` lock: `borrowers` is that chain of users, innermost last (empty: the holder uses it).
-- A borrower's release hands it back to the previous user, not to other waiters.
CREATE TABLE workflow_locks (
  lock_type text NOT NULL,
  lock_value text NOT NULL,
  holder bigint NOT NULL,
  inherit boolean NOT NULL,
  borrowers bigint[] NOT NULL DEFAULT '{}',
  acquired_at timestamptz NOT NULL,
  PRIMARY KEY (lock_type, lock_value)
);
-- releaseAll(job) finds a job's locks, held or borrowed.
CREATE INDEX workflow_locks_holder ON workflow_locks (holder);
CREATE INDEX workflow_locks_borrowers ON workflow_locks USING gin (borrowers);

-- A job waiting for a lock: one at most (a workflow waits for one thing at a time). `ancestors`
-- are the job's parent chain at wait time, so a release by a borrower can find the holder's other
-- descendants (JobCenter's siblings) that may borrow it next. `until` is informative: the engine's
-- timer ends the wait (cancelLockWait).
CREATE TABLE workflow_lock_waits (
  job_id bigint PRIMARY KEY,
  lock_type text NOT NULL,
  lock_value text NOT NULL,
  inherit boolean NOT NULL,
  ancestors bigint[] NOT NULL DEFAULT '{}',
  since timestamptz NOT NULL,
  until timestamptz,
  -- Ties on `since` (one transaction, one clock tick) are broken by arrival order.
  seq bigint GENERATED ALWAYS AS IDENTITY
);
-- Grants go to the oldest waiter of a lock.
CREATE INDEX workflow_lock_waits_lock ON workflow_lock_waits (lock_type, lock_value, since, seq);

-- A job's subscription: events whose data contains `mask` (jsonb @>) are delivered to it.
CREATE TABLE workflow_subscriptions (
  job_id bigint NOT NULL,
  name text NOT NULL,
  mask jsonb NOT NULL CHECK (jsonb_typeof(mask) = 'object'),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (job_id, name)
);
-- A raise matches every subscription's mask against the event: containment, served by GIN.
CREATE INDEX workflow_subscriptions_mask ON workflow_subscriptions USING gin (mask jsonb_path_ops);

-- Event ids: one per raise, shared by every subscription the event is queued for.
CREATE SEQUENCE workflow_event_ids;

-- Events matched by a subscription while its job was not waiting for it: kept until the job's
-- wait_for_event takes it, or the job ends (JobCenter's job_events + queued_events, flattened).
CREATE TABLE workflow_event_queue (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id bigint NOT NULL,
  name text NOT NULL,
  event_id bigint NOT NULL,
  raised_at timestamptz NOT NULL,
  data jsonb NOT NULL,
  FOREIGN KEY (job_id, name) REFERENCES workflow_subscriptions (job_id, name) ON DELETE CASCADE
);
CREATE INDEX workflow_event_queue_job ON workflow_event_queue (job_id, name, event_id);

-- A job waiting in wait_for_event for any of these subscription names. The first matching event
-- deletes the row and appends the job's wakeup: one wakeup per wait, even under concurrent raises.
CREATE TABLE workflow_event_waits (
  job_id bigint PRIMARY KEY,
  names text[] NOT NULL,
  since timestamptz NOT NULL
);
