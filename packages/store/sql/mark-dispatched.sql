-- Marks jobs dispatched once the broker confirmed their messages: each row only if it is still the
-- version the relay read (xmin unchanged), so a job claimed, failed or given back meanwhile keeps
-- its new state and is published again. The commit does not wait for the disk: a mark lost in a
-- crash only makes the relay publish the job again, and a duplicate message is harmless, while a
-- worker whose claim waits on this row's lock is not kept waiting for a flush.
-- Params: $1 id bigint[], $2 version text[] (pairwise), $3 now (null: database clock).
-- Returns how many rows were marked.
WITH async AS (
  SELECT set_config('synchronous_commit', 'off', true)
), marked AS (
  UPDATE jobs j SET state = 'dispatched', dispatched_at = coalesce($3::timestamptz, statement_timestamp())
  FROM unnest($1::bigint[], $2::text[]) AS i(id, version), async
  WHERE j.id = i.id AND j.xmin::text = i.version AND j.state IN ('ready', 'dispatched')
  RETURNING 1
)
SELECT count(*)::int AS marked FROM marked
