-- Counts jobs per function and state, live and finished.
-- Params: none.
-- Returns funcname, state, count.
SELECT funcname, state, count(*)::int AS count
FROM all_jobs
GROUP BY funcname, state
ORDER BY funcname, state
