-- Sets the chain of jobs borrowing an inherited lock (a borrow pushes onto it, a return pops).
-- Params: $1 lock_type text, $2 lock_value text, $3 borrowers bigint[] (innermost last).
-- Returns nothing.
UPDATE workflow_locks SET borrowers = $3::bigint[] WHERE lock_type = $1 AND lock_value = $2
