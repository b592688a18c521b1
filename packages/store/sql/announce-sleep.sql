-- A relay announces that it is about to sleep, so that inserts start to NOTIFY it.
-- Params: $1 relay_id text, $2 now (null: database clock).
-- Returns nothing.
INSERT INTO sleeping_relays (relay_id, since) VALUES ($1, coalesce($2::timestamptz, statement_timestamp()))
ON CONFLICT (relay_id) DO UPDATE SET since = EXCLUDED.since
