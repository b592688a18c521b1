-- Records the API client that created jobs just inserted in this transaction (see 0008).
-- Params: $1 job ids bigint[], $2 who.
-- Returns nothing.
INSERT INTO job_owners (job_id, who) SELECT unnest($1::bigint[]), $2 ON CONFLICT (job_id) DO NOTHING
