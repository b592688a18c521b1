-- Serializes the namespace's workflow lock operations: a transaction-scoped advisory lock, held to
-- commit, keyed by this namespace's schema. Take it in its own statement, before reading anything.
-- Params: none. Returns one row (the lock is taken when it returns).
SELECT pg_advisory_xact_lock(hashtext('drover.workflow_locks'), hashtext(current_schema())) IS NULL AS locked
