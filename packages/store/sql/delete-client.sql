-- Removes an API client; its token stops working with the commit.
-- Params: $1 who.
-- Returns the name when it was removed; no row when there was no such client.
DELETE FROM api_clients WHERE who = $1 RETURNING who
