-- The first half of firing: locks enabled triggers whose fire time has come, earliest first,
-- skipping any another scheduler holds (it is firing them; its commit moves their fire time on, and
-- a rolled-back fire leaves them due for the next pass). Run inside the transaction that fires them.
-- Params: $1 limit int, $2 now (null: database clock).
-- Returns id, type, args, time_zone, catch_up, next_fire_at, and now (the time the plan is made for).
SELECT t.id::text AS id, t.type, t.args, t.time_zone, t.catch_up, t.next_fire_at,
       coalesce($2::timestamptz, statement_timestamp()) AS now
FROM triggers t
WHERE t.enabled AND t.next_fire_at <= coalesce($2::timestamptz, statement_timestamp())
ORDER BY t.next_fire_at
LIMIT $1
FOR UPDATE SKIP LOCKED
