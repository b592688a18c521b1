-- Locks triggers for the rest of the transaction, in id order (so two fires of overlapping sets
-- cannot deadlock): a debounced trigger's window is then read and moved by one fire at a time.
-- Params: $1 ids bigint[].
-- Returns the ids locked.
SELECT t.id::text AS id FROM triggers t WHERE t.id = ANY($1::bigint[]) ORDER BY t.id FOR UPDATE
