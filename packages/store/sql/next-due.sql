-- When the scheduler next has work: the earliest run_after of a scheduled job, and the earliest
-- lease end of a running one. 'infinity' (never) is not work.
-- Params: none.
-- Returns next_due, next_lease_end (each null when there is none).
SELECT (SELECT min(run_after) FROM jobs WHERE state = 'scheduled' AND run_after < 'infinity') AS next_due,
       (SELECT min(grabbed_until) FROM jobs WHERE state = 'running') AS next_lease_end
