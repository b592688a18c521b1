-- Looks up the live jobs holding some (funcname, uniqkey) pairs; used after an insert lost a race
-- to a concurrent transaction whose row was not yet visible to the insert's snapshot.
-- Params: $1 funcname text[], $2 uniqkey text[] (pairwise).
-- Returns funcname, uniqkey, id for the pairs that are live now.
SELECT j.funcname, j.uniqkey, j.id::text AS id
FROM unnest($1::text[], $2::text[]) AS k(funcname, uniqkey)
JOIN jobs j ON j.funcname = k.funcname AND j.uniqkey = k.uniqkey
