-- The jobs a trigger created, newest first (GET /triggers/:id/jobs, `drover triggers show`), read
-- from both tables by trigger-jobs.sql. Without these, that read scans finished_jobs, which holds
-- every exit status kept (millions of rows on a busy system). Partial: jobs nobody's trigger made
-- (most of them) get no entry, so a producer's insert and a worker's claim pay nothing for it, and
-- trigger_id never changes, so a claim's update stays HOT-eligible as before.
CREATE INDEX jobs_by_trigger ON jobs (trigger_id, id) WHERE trigger_id IS NOT NULL;
CREATE INDEX finished_jobs_by_trigger ON finished_jobs (trigger_id, id) WHERE trigger_id IS NOT NULL;
