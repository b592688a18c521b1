-- Dispatch by function: the relay reads ready jobs function by function (a fair share each, and no
-- more than a function's room in the broker), counts each function's dispatched jobs, and looks for
-- lost messages function by function. The indexes lead with funcname so that each of these is a
-- probe and a short range scan per function, however long one function's backlog is.

-- Ready jobs of one function, highest priority first; its leading funcname also serves the skip
-- scan that lists the functions with ready jobs. Replaces jobs_ready (priority-led, across functions),
-- which nothing reads any more.
CREATE INDEX jobs_ready_by_function ON jobs (funcname, priority DESC, run_after, id) WHERE state = 'ready';
DROP INDEX jobs_ready;

-- Dispatched jobs of one function, oldest dispatch first: the count that bounds what a function has
-- in the broker, and the oldest unclaimed messages of a function (lost-message candidates).
-- Replaces jobs_dispatched (dispatched_at across functions).
CREATE INDEX jobs_dispatched_by_function ON jobs (funcname, dispatched_at) WHERE state = 'dispatched';
DROP INDEX jobs_dispatched;
