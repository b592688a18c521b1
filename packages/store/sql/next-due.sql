-- When the scheduler next has work: the earliest run_after of a scheduled job, the earliest
-- lease end of a running one, and the earliest fire time of an enabled trigger. 'infinity'
-- (never) is not work.
-- Params: none.
-- Returns next_due, next_lease_end, next_trigger_fire (each null when there is none).
SELECT (SELECT min(run_after) FROM jobs WHERE state = 'scheduled' AND run_after < 'infinity') AS next_due,
       (SELECT min(grabbed_until) FROM jobs WHERE state = 'running') AS next_lease_end,
       (SELECT min(next_fire_at) FROM triggers WHERE enabled AND next_fire_at IS NOT NULL) AS next_trigger_fire
