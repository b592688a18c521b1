-- A relay is awake again: inserts need not NOTIFY it.
-- Params: $1 relay_id text.
-- Returns nothing.
DELETE FROM sleeping_relays WHERE relay_id = $1
