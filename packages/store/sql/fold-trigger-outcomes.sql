-- Folds finished outcomes of triggered jobs into their triggers' state: takes up to $1 rows of
-- trigger_outcomes (skipping rows another scheduler is folding) and deletes them, and for each
-- trigger keeps the latest success and the latest failure (with its error). Only a later outcome
-- replaces an earlier one, so folds in any order agree. Triggers are locked in id order, so two
-- folds cannot deadlock; a deleted trigger's outcomes are dropped.
-- Params: $1 limit int.
-- Returns folded: how many outcomes were taken.
WITH taken AS (
  DELETE FROM trigger_outcomes o
  WHERE o.ctid IN (SELECT ctid FROM trigger_outcomes LIMIT $1 FOR UPDATE SKIP LOCKED)
  RETURNING o.trigger_id, o.job_id, o.succeeded, o.error, o.finished_at
), latest AS (
  SELECT DISTINCT ON (trigger_id, succeeded) trigger_id, succeeded, job_id, error, finished_at
  FROM taken
  ORDER BY trigger_id, succeeded, finished_at DESC, job_id DESC
), per_trigger AS (
  SELECT k.trigger_id,
         s.finished_at AS success_at, s.job_id AS success_job_id,
         f.finished_at AS failure_at, f.job_id AS failure_job_id, f.error
  FROM (SELECT DISTINCT trigger_id FROM latest) k
  LEFT JOIN latest s ON s.trigger_id = k.trigger_id AND s.succeeded
  LEFT JOIN latest f ON f.trigger_id = k.trigger_id AND NOT f.succeeded
), locked AS (
  SELECT t.id FROM triggers t WHERE t.id IN (SELECT trigger_id FROM per_trigger) ORDER BY t.id FOR UPDATE
), updated AS (
  UPDATE triggers t
  SET last_success_at = CASE WHEN p.success_at > coalesce(t.last_success_at, '-infinity') THEN p.success_at ELSE t.last_success_at END,
      last_success_job_id = CASE WHEN p.success_at > coalesce(t.last_success_at, '-infinity') THEN p.success_job_id ELSE t.last_success_job_id END,
      last_failure_at = CASE WHEN p.failure_at > coalesce(t.last_failure_at, '-infinity') THEN p.failure_at ELSE t.last_failure_at END,
      last_failure_job_id = CASE WHEN p.failure_at > coalesce(t.last_failure_at, '-infinity') THEN p.failure_job_id ELSE t.last_failure_job_id END,
      last_error = CASE WHEN p.failure_at > coalesce(t.last_failure_at, '-infinity') THEN p.error ELSE t.last_error END
  FROM per_trigger p JOIN locked l ON l.id = p.trigger_id
  WHERE t.id = p.trigger_id
)
SELECT count(*)::int AS folded FROM taken
