-- Call-and-wait (JobCenter's create_job / job_done) and find_jobs.
--
-- A JSON-RPC caller waiting for a job marks it in awaited_jobs (in the insert's transaction, or
-- before it reads the job's status). When finished rows are written, one statement-level trigger
-- takes the marks of the new rows and NOTIFYs their ids on `<schema>_finished`: once per
-- statement (a batch of completions is one NOTIFY, not one per job), and not at all for the jobs
-- nobody waits for, which is nearly all of them (a NOTIFY serializes commits on the notification
-- queue lock; see 0003). A notification is only a wake-up: the listener reads the outcomes.
CREATE TABLE awaited_jobs (
  id bigint PRIMARY KEY
);

CREATE FUNCTION notify_awaited_finished() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids bigint[];
BEGIN
  WITH taken AS (
    DELETE FROM awaited_jobs a USING finished_rows f WHERE a.id = f.id RETURNING a.id
  )
  SELECT array_agg(id ORDER BY id) INTO ids FROM taken;
  IF ids IS NULL THEN
    RETURN NULL;
  END IF;
  -- A payload must stay under 8000 bytes: 300 ids of at most 20 digits and a comma each is 6300.
  FOR i IN 1 .. array_length(ids, 1) BY 300 LOOP
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_finished', array_to_string(ids[i : i + 299], ','));
  END LOOP;
  RETURN NULL;
END
$$;

CREATE TRIGGER finished_jobs_awaited AFTER INSERT ON finished_jobs
  REFERENCING NEW TABLE AS finished_rows
  FOR EACH STATEMENT EXECUTE FUNCTION notify_awaited_finished();

-- find_jobs: argument containment (`arg @> filter`) over live and finished jobs. jsonb_path_ops
-- indexes only what @> needs, and is a third of the default opclass's size. Only the finished
-- table gets one: it is the large one. The live table is small by design and every state change
-- writes a new row version into each of its indexes (none of those updates is HOT), so a GIN
-- index there would tax every insert, dispatch, claim and completion to speed up a lookup that
-- scans a few thousand live rows at most.
CREATE INDEX finished_jobs_arg ON finished_jobs USING gin (arg jsonb_path_ops);
