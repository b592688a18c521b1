-- Inserts jobs in one round trip. A job whose (funcname, uniqkey) is already live is not inserted;
-- its row reports the live job's id (also for duplicates within the same batch).
-- Params: $1 funcname text[], $2 arg jsonb[], $3 uniqkey text[], $4 run_after timestamptz[] (null: now),
--   $5 priority smallint[], $6 coalesce_key text[], $7 max_retries int[], $8 timeout_ms int[], $9 now (null: database clock),
--   $10 id bigint[] (null, or a null entry: drawn here; an id given was drawn with the job's idempotency key).
-- Returns one row per input in input order: ord, id, inserted. The id is null for a duplicate of a
-- job that was live before this statement: this statement's snapshot may show a job that has
-- finished since (or miss one a concurrent transaction just inserted), so the caller looks the
-- live holder up with a fresh statement.
WITH clock AS (
  SELECT coalesce($9::timestamptz, statement_timestamp()) AS now
), input AS (
  -- Ids are drawn up front so that each input row knows its own id without relying on RETURNING order.
  -- (unnest pads a null $10 with nulls; coalesce draws only for those.)
  SELECT i.funcname, i.arg, i.uniqkey, i.run_after, i.priority, i.coalesce_key, i.max_retries, i.timeout_ms, i.ord,
         coalesce(i.given_id, nextval(pg_get_serial_sequence('jobs', 'id'))) AS id
  FROM unnest($1::text[], $2::jsonb[], $3::text[], $4::timestamptz[], $5::smallint[], $6::text[], $7::int[], $8::int[], $10::bigint[])
    WITH ORDINALITY AS i(funcname, arg, uniqkey, run_after, priority, coalesce_key, max_retries, timeout_ms, given_id, ord)
), inserted AS (
  INSERT INTO jobs (id, funcname, arg, uniqkey, state, priority, run_after, coalesce_key, max_retries, timeout_ms, created_at)
  SELECT i.id, i.funcname, i.arg, i.uniqkey,
         CASE WHEN coalesce(i.run_after, c.now) <= c.now THEN 'ready' ELSE 'scheduled' END,
         i.priority, coalesce(i.run_after, c.now), i.coalesce_key, i.max_retries, i.timeout_ms, c.now
  FROM input i CROSS JOIN clock c
  -- Key order, so concurrent batches take unique-index locks in the same order and cannot
  -- deadlock; among duplicates in the batch the first still wins.
  ORDER BY i.funcname, i.uniqkey, i.ord
  ON CONFLICT (funcname, uniqkey) WHERE uniqkey IS NOT NULL DO NOTHING
  RETURNING id, funcname, uniqkey
)
SELECT i.ord::int AS ord,
       coalesce(ins.id, twin.id)::text AS id,
       ins.id IS NOT NULL AS inserted
FROM input i
LEFT JOIN inserted ins ON ins.id = i.id
-- A duplicate of a job inserted earlier in this same batch: not visible to this statement's
-- snapshot, but known from RETURNING.
LEFT JOIN inserted twin ON ins.id IS NULL AND twin.funcname = i.funcname AND twin.uniqkey = i.uniqkey
ORDER BY i.ord
