-- Looks up the live jobs holding some (funcname, uniqkey) pairs, in a fresh snapshot: used for the
-- duplicates of an insert, whose own snapshot may be stale.
-- Params: $1 funcname text[], $2 uniqkey text[] (pairwise).
-- Returns funcname, uniqkey, id for the pairs that are live now.
SELECT j.funcname, j.uniqkey, j.id::text AS id
FROM unnest($1::text[], $2::text[]) AS k(funcname, uniqkey)
JOIN jobs j ON j.funcname = k.funcname AND j.uniqkey = k.uniqkey
