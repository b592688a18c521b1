-- Triggers, part 2: @event and @webhook triggers fire, and debounce applies. Names no schema: the
-- migrator sets search_path to the namespace's.

-- A @webhook's id: 192 random bits (base64url), the whole of its URL's credential. Stored as it is,
-- not hashed: the trigger's secret must be stored as it is anyway (an HMAC is checked with the
-- secret itself), anyone who reads this table can insert jobs directly, and an operator must be able
-- to show a webhook's URL again (`drover triggers show`). Unique, and found by it on every POST.
ALTER TABLE triggers ADD COLUMN webhook_id text;
ALTER TABLE triggers ADD COLUMN webhook_secret text;
-- @webhook triggers stored before this migration get their id here, in the store's form (24 bytes,
-- base64url, 32 characters). The bytes come from gen_random_uuid(), which PostgreSQL 13+ draws
-- from its strong random source: the first 24 of two UUIDs' 32 bytes hold 122 + 60 random bits.
UPDATE triggers
SET webhook_id = translate(encode(substr(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 1, 24), 'base64'), '+/', '-_')
WHERE type = 'webhook';
CREATE UNIQUE INDEX triggers_webhook_id ON triggers (webhook_id) WHERE webhook_id IS NOT NULL;
ALTER TABLE triggers ADD CONSTRAINT triggers_webhook_id_type CHECK ((type = 'webhook') = (webhook_id IS NOT NULL));
ALTER TABLE triggers ADD CONSTRAINT triggers_webhook_secret_type CHECK (webhook_secret IS NULL OR type = 'webhook');

-- A debounced trigger's window: the first match schedules its job for this time and sets it;
-- matches before it create nothing. The pending job is an ordinary scheduled job, so the window and
-- its job survive any restart.
ALTER TABLE triggers ADD COLUMN debounce_until timestamptz;

-- Every raise reads the enabled @event triggers (selectors are matched in the application).
CREATE INDEX triggers_events ON triggers (id) WHERE type = 'event' AND enabled;
