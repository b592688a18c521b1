-- Dispatched jobs whose message went unclaimed for stale_ms (perhaps lost): the oldest dispatch of
-- each function first, a fair share of the batch per function.
-- Params: $1 limit int (the batch), $2 stale_ms bigint, $3 now (null: database clock).
-- Returns id, funcname, priority, state ('dispatched'), version (the row's xmin, for mark-dispatched.sql),
-- by function, oldest dispatch first.
--
-- Functions with dispatched jobs are listed by a skip scan of jobs_dispatched_by_function, and each
-- gets floor(limit / functions) (at least one) of its oldest stale jobs, so that a function with
-- many stale messages (no workers, say) does not crowd out the one lost message of another. The
-- relay decides which of them to publish again (as many as its function's queue has room for).
WITH RECURSIVE c AS (
  SELECT coalesce($3::timestamptz, statement_timestamp()) - $2::bigint * interval '1 millisecond' AS stale_before
), dispatched_functions AS (
  (SELECT funcname FROM jobs WHERE state = 'dispatched' ORDER BY funcname LIMIT 1)
  UNION ALL
  SELECT (SELECT j.funcname FROM jobs j WHERE j.state = 'dispatched' AND j.funcname > f.funcname ORDER BY j.funcname LIMIT 1)
  FROM dispatched_functions f WHERE f.funcname IS NOT NULL
), share AS (
  SELECT greatest(floor($1::int / greatest(count(*), 1)), 1)::int AS per FROM dispatched_functions WHERE funcname IS NOT NULL
), picked AS (
  SELECT j.id, j.funcname, j.priority, j.state, j.version, j.dispatched_at
  FROM dispatched_functions f CROSS JOIN share s CROSS JOIN c
  CROSS JOIN LATERAL (
    SELECT y.id, y.funcname, y.priority, y.state, y.xmin::text AS version, y.dispatched_at
    FROM jobs y
    WHERE y.funcname = f.funcname AND y.state = 'dispatched' AND y.dispatched_at <= c.stale_before
    ORDER BY y.dispatched_at
    LIMIT s.per
  ) j
  WHERE f.funcname IS NOT NULL
)
SELECT id::text, funcname, priority, state, version FROM picked ORDER BY funcname, dispatched_at
