-- Finds the @webhook trigger of a webhook id, for a POST to its URL to check before it fires.
-- Params: $1 webhook_id text.
-- Returns id, enabled, webhook_secret; no row when no trigger has that id.
SELECT t.id::text AS id, t.enabled, t.webhook_secret FROM triggers t WHERE t.webhook_id = $1
