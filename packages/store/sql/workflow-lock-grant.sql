-- Gives a workflow lock to a waiting job: as its new holder ($4 false: the lock changes hands), or
-- lent ($4 true: the job is pushed onto the borrowers given). Ends the job's wait and appends its
-- 'lock' wakeup in the same statement, so a grant and its wakeup commit together.
-- Params: $1 job_id bigint, $2 lock_type text, $3 lock_value text, $4 lend boolean, $5 borrowers bigint[] (after the release), $6 now timestamptz (null: the database's).
-- Returns job_id; no row when the job was not waiting for this lock.
WITH waited AS (
  DELETE FROM workflow_lock_waits w WHERE w.job_id = $1::bigint AND w.lock_type = $2 AND w.lock_value = $3
  RETURNING w.job_id, w.inherit
), granted AS (
  UPDATE workflow_locks l SET
    holder = CASE WHEN $4::boolean THEN l.holder ELSE w.job_id END,
    inherit = CASE WHEN $4::boolean THEN l.inherit ELSE w.inherit END,
    borrowers = CASE WHEN $4::boolean THEN $5::bigint[] || w.job_id ELSE '{}'::bigint[] END,
    acquired_at = CASE WHEN $4::boolean THEN l.acquired_at ELSE coalesce($6::timestamptz, now()) END
  FROM waited w WHERE l.lock_type = $2 AND l.lock_value = $3
  RETURNING w.job_id
)
INSERT INTO workflow_wakeups (run_id, kind, payload, created_at)
SELECT g.job_id, 'lock', jsonb_build_object('type', $2::text, 'value', $3::text), coalesce($6::timestamptz, now()) FROM granted g
RETURNING run_id::text AS job_id
