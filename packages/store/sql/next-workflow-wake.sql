-- The earliest wake time of any run (a sleep's end, a wait's timeout), through workflow_runs_wake_at.
-- Params: none.
-- Returns one row: at (null when no run has one).
SELECT min(wake_at) AS at FROM workflow_runs
