-- Idempotency keys make a producer's retry safe: an enqueue whose connection died at commit may
-- have committed, and its retry must find that job instead of inserting a second one. A key maps
-- to the job its first insert created (or, when that insert met a live job with the same
-- uniqkey, to that job), whether the job is live or finished, until the scheduler's trim deletes
-- it after expires_at. No foreign key: the job moves to finished_jobs, and may be trimmed (or, with
-- keepForMs 0, deleted at completion) while its key still says "already done".
CREATE TABLE idempotency_keys (
  key text PRIMARY KEY,
  job_id bigint NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
