-- Gives running jobs whose grab token matches back without counting a failure: ready at once, or
-- scheduled when a later run_after is given (a snooze).
-- Params: $1 id bigint[], $2 grab_token bigint[], $3 run_after timestamptz[] (null: now) (pairwise), $4 now (null: database clock).
-- Returns the ids given back; an id missing from the result was refused (lease lost).
UPDATE jobs j
SET state = CASE WHEN coalesce(i.run_after, c.now) > c.now THEN 'scheduled' ELSE 'ready' END,
    run_after = coalesce(i.run_after, c.now),
    grab_token = NULL, grabbed_until = NULL, dispatched_at = NULL
FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) AS i(id, token, run_after),
     (SELECT coalesce($4::timestamptz, statement_timestamp()) AS now) c
WHERE j.id = i.id AND j.grab_token = i.token AND j.state = 'running'
RETURNING j.id::text AS id
