-- Counts live jobs (scheduled, ready, dispatched, running): 0 means everything finished. Reads only
-- the small hot table, so it is cheap enough to poll.
-- Params: none.
-- Returns live.
SELECT count(*)::int AS live FROM jobs
