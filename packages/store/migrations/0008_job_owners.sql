-- Which API client created a job, for the jobs created through the controller's API (HTTP and
-- JSON-RPC). A client without the admin scope may read, wait for, find, retry, cancel or
-- reschedule only the jobs it created; other clients' jobs, and jobs enqueued straight into
-- PostgreSQL by a trusted producer (which have no owner), need admin.
--
-- A table of its own rather than a column of jobs and finished_jobs: a job keeps its id from
-- insert to trim, so one row here serves both tables and every move between them, and the hot
-- paths (claims, completions, the relay) neither carry nor copy it. Only API inserts pay for it,
-- with one more row in their own transaction. Rows go with their job's trim, and with their client.
CREATE TABLE job_owners (
  job_id bigint PRIMARY KEY,
  who    text   NOT NULL
);
-- A client's own jobs, newest first: find_jobs and the job list of a client without admin.
CREATE INDEX job_owners_who ON job_owners (who, job_id);
