-- API keys: `elk_<id>_<secret>`, shown once; only SHA-256(secret) is stored.
CREATE TABLE api_keys (
  -- Public id: 16 hex characters, the part after `elk_` (listing, revocation, signed requests' key id).
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  -- JSON array of grants, each within the creator's permissions at creation.
  scopes TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  -- 1: the key may also sign requests (HMAC); its signing secret is derived from
  -- the REQUEST_SIGNING_SECRET Worker secret and the id, so nothing more is stored.
  signing INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  -- Written off the response path, at most once a minute per key.
  last_used_at INTEGER,
  expires_at INTEGER,
  revoked_at INTEGER
);

CREATE INDEX api_keys_user ON api_keys (user_id, created_at);
