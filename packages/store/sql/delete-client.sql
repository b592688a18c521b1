-- Removes an API client; its token stops working with the commit. Its jobs stay, visible to admins
-- only: a client made later under the same name must not inherit them.
-- Params: $1 who.
-- Returns the name when it was removed; no row when there was no such client.
WITH owned AS (
  DELETE FROM job_owners WHERE who = $1
)
DELETE FROM api_clients WHERE who = $1 RETURNING who
