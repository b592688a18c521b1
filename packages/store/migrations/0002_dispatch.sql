-- Dispatch: what the relay reads, and the wake-up calls for the relay and the scheduler.

-- The relay publishes ready jobs, highest priority first.
CREATE INDEX jobs_ready ON jobs (priority DESC, run_after, id) WHERE state = 'ready';
-- Lost-message recovery: jobs dispatched long ago and never claimed.
CREATE INDEX jobs_dispatched ON jobs (dispatched_at) WHERE state = 'dispatched';

-- Wakes listeners once per INSERT statement, not once per row: a NOTIFY per job halves enqueue
-- throughput here. A NOTIFY is only ever a latency hint; the relay and the scheduler also poll.
-- Channel: <schema>_jobs. Payload 'ready' wakes the relay, 'scheduled' wakes the scheduler.
CREATE FUNCTION notify_inserted_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM inserted_jobs WHERE state = 'ready') THEN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_jobs', 'ready');
  END IF;
  IF EXISTS (SELECT 1 FROM inserted_jobs WHERE state = 'scheduled') THEN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_jobs', 'scheduled');
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER jobs_notify_inserted
  AFTER INSERT ON jobs
  REFERENCING NEW TABLE AS inserted_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION notify_inserted_jobs();
