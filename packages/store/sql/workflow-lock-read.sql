-- Reads one workflow lock: who holds it, whether it may be inherited, who is borrowing it.
-- Params: $1 lock_type text, $2 lock_value text.
-- Returns holder, inherit, borrowers (innermost last), acquired_at; no row when it is free.
SELECT l.holder::text AS holder, l.inherit, l.borrowers::text[] AS borrowers, l.acquired_at
FROM workflow_locks l WHERE l.lock_type = $1 AND l.lock_value = $2
