-- Marks jobs just inserted in this transaction as awaited (see await-jobs.sql for live ones):
-- no one can have finished them before the transaction commits.
-- Params: $1 id bigint[].
-- Returns nothing.
INSERT INTO awaited_jobs (id) SELECT unnest($1::bigint[]) ON CONFLICT DO NOTHING
