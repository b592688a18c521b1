-- Extends the leases of running jobs whose grab token matches (long jobs call this as they go).
-- Params: $1 id bigint[], $2 grab_token bigint[] (pairwise), $3 lease_ms int, $4 now (null: database clock).
-- Returns id and the new grabbed_until of each extended job; a missing id was refused (lease lost).
UPDATE jobs j
SET grabbed_until = c.now + $3::int * interval '1 millisecond'
FROM unnest($1::bigint[], $2::bigint[]) AS i(id, token),
     (SELECT coalesce($4::timestamptz, statement_timestamp()) AS now) c
WHERE j.id = i.id AND j.grab_token = i.token AND j.state = 'running'
RETURNING j.id::text AS id, j.grabbed_until
