-- API clients of this namespace: who may call, work or administer through the controller's API
-- (HTTP and JSON-RPC). The token is kept only as a slow hash in a self-describing string
-- (`scrypt$N$r$p$salt$hash`, base64), so the cost can be raised later without a migration;
-- nothing reads it back out of the store. Scopes are glob patterns on function names.
CREATE TABLE api_clients (
  who text PRIMARY KEY CHECK (length(who) BETWEEN 1 AND 63),
  token_hash text NOT NULL,
  call_patterns text[] NOT NULL DEFAULT '{}',
  work_patterns text[] NOT NULL DEFAULT '{}',
  admin boolean NOT NULL DEFAULT false,
  -- A client certificate with this CN authenticates as this client; one client per CN.
  certificate_cn text UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  rotated_at timestamptz
);
