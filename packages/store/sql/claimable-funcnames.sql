-- Functions that have jobs waiting for a worker (ready or dispatched): where messages may have
-- been lost when the broker restarted. A skip scan over jobs_claimable: one index probe per
-- function, however long the backlog.
-- Params: none.
-- Returns funcname.
WITH RECURSIVE f AS (
  (SELECT funcname FROM jobs WHERE state IN ('ready', 'dispatched') ORDER BY funcname LIMIT 1)
  UNION ALL
  SELECT (SELECT j.funcname FROM jobs j WHERE j.state IN ('ready', 'dispatched') AND j.funcname > f.funcname ORDER BY j.funcname LIMIT 1)
  FROM f WHERE f.funcname IS NOT NULL
)
SELECT funcname FROM f WHERE funcname IS NOT NULL
