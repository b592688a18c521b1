-- The next ready jobs for the relay to publish, shared fairly among functions and bounded per function.
-- Params: $1 limit int (the batch), $2 max_in_broker int (dispatched jobs a function may have; null: no bound).
-- Returns id, funcname, priority, state ('ready'), version (the row's xmin, for mark-dispatched.sql).
--
-- Functions with ready jobs are listed by a skip scan (one probe of jobs_ready_by_function each);
-- a function already holding max_in_broker dispatched jobs gets none (its broker queue is full
-- enough: a backlog stays in PostgreSQL, not in RabbitMQ's memory), and the others share the batch
-- equally (floor(limit / functions), at least one each), so one function's backlog of any size
-- never delays another's jobs by more than a step. Within a function, highest priority first.
-- The count stops at max_in_broker, so it costs at most that many index entries per function.
-- A function near its bound gets jobs only if all its ready jobs fit in the room, or the room
-- holds half the bound or a full share of the batch (whichever is less: with many functions a
-- share is what one step can give, and a function must still fill up to its bound); so a backlog
-- waits until that much is free and then takes it at once. Without
-- this a backlog was refilled by the few jobs each claim batch freed, each a full relay step (a
-- count of the bound, a publish, a mark, a sleep announced and withdrawn): measured after a
-- 1,000/s steady offer, 100-140 steps/s kept the relay 45-90 % busy on two shared cores, where
-- with the bound off it sat idle (docs/benchmarks.md). The queue still holds half the bound (or
-- a share) when the refill comes, so consumers do not wait for it.
-- Rows another session holds are skipped (a transaction cancelling one, say: publishing it would
-- only make a worker's claim wait). The locks end with this statement (one relay leads, and the
-- mark is guarded by each row's version), and its commit does not wait for the disk.
WITH RECURSIVE async AS (
  SELECT set_config('synchronous_commit', 'off', true)
), ready_functions AS (
  (SELECT funcname FROM jobs WHERE state = 'ready' ORDER BY funcname LIMIT 1)
  UNION ALL
  SELECT (SELECT j.funcname FROM jobs j WHERE j.state = 'ready' AND j.funcname > r.funcname ORDER BY j.funcname LIMIT 1)
  FROM ready_functions r WHERE r.funcname IS NOT NULL
), refill AS (
  -- The least room worth a step for a function with a backlog.
  SELECT least(($2::int + 1) / 2, greatest($1::int / greatest(count(*), 1), 1))::int AS least_room
  FROM ready_functions WHERE funcname IS NOT NULL
), room AS (
  SELECT r.funcname, coalesce($2::int - d.n, $1::int) AS room
  FROM ready_functions r
  CROSS JOIN refill f
  CROSS JOIN LATERAL (
    SELECT count(*)::int AS n FROM (
      SELECT 1 FROM jobs x
      WHERE $2::int IS NOT NULL AND x.funcname = r.funcname AND x.state = 'dispatched'
      LIMIT $2::int
    ) counted
  ) d
  -- Ready jobs, counted only when the room is less than that and only one past the room: the scan
  -- is skipped otherwise, and costs at most half the bound's index entries.
  CROSS JOIN LATERAL (
    SELECT count(*)::int AS n FROM (
      SELECT 1 FROM jobs w
      WHERE $2::int - d.n < f.least_room AND w.funcname = r.funcname AND w.state = 'ready'
      ORDER BY w.priority DESC, w.run_after, w.id
      LIMIT $2::int - d.n + 1
    ) counted
  ) w
  WHERE r.funcname IS NOT NULL
    AND ($2::int IS NULL OR (d.n < $2::int AND ($2::int - d.n >= f.least_room OR w.n <= $2::int - d.n)))
), share AS (
  SELECT greatest(floor($1::int / greatest(count(*), 1)), 1)::int AS per FROM room
)
SELECT j.id::text, j.funcname, j.priority, j.state, j.version
FROM room r CROSS JOIN share s CROSS JOIN async
CROSS JOIN LATERAL (
  SELECT y.id, y.funcname, y.priority, y.state, y.xmin::text AS version
  FROM jobs y
  WHERE y.funcname = r.funcname AND y.state = 'ready'
  ORDER BY y.priority DESC, y.run_after, y.id
  LIMIT least(r.room, s.per)
  FOR UPDATE OF y SKIP LOCKED
) j
