-- Claims jobs by id: each that is ready or dispatched becomes running, with a lease and a fresh
-- grab token. A job claimed elsewhere, finished, cancelled or not yet due is left alone.
-- Rows are locked in id order, so claimers of overlapping batches cannot deadlock; a claimer that
-- waited on a lock re-checks the state and matches nothing if the other one claimed the job.
-- Params: $1 id bigint[], $2 lease_ms int, $3 now (null: database clock).
-- Returns the claimed jobs (live-job columns plus grab_token).
WITH c AS (
  SELECT coalesce($3::timestamptz, statement_timestamp()) AS now
), picked AS (
  -- No state test here: `state IN (...)` would match jobs_claimable's predicate, and a generic plan
  -- then ANDs a scan of that whole index (dead entries included) with the primary key, measured
  -- here at 3 ms instead of 0.05 ms for 8 ids on a busy table. The UPDATE tests the state.
  SELECT id FROM jobs
  WHERE id = ANY ($1::bigint[])
  ORDER BY id
  FOR UPDATE
)
UPDATE jobs j
SET state = 'running',
    grab_token = nextval('grab_tokens'),
    grabbed_until = c.now + $2::int * interval '1 millisecond',
    attempts = j.attempts + 1
FROM picked p, c
WHERE j.id = p.id AND j.state IN ('ready', 'dispatched')
RETURNING j.id::text, j.funcname, j.arg, j.uniqkey, j.state, j.priority, j.run_after, j.coalesce_key,
          j.max_retries, j.timeout_ms, j.attempts, j.failures, j.grab_token::text, j.grabbed_until, j.created_at
