-- The device authorization grant (RFC 8628): one row per device_authorization
-- request, from the request until it is redeemed or expires. Poll state lives
-- here, beside the code, so that every poll is one guarded UPDATE ... RETURNING:
-- D1 runs each statement atomically on the primary, so concurrent polls see
-- each other's last_polled_at and interval exactly (KV could not).
CREATE TABLE device_authorizations (
  -- A random id (not a secret): what the hosted page's interaction names.
  id TEXT PRIMARY KEY,
  -- SHA-256 (hex) of the device_code (256 random bits); the code itself is never stored.
  device_code_hash TEXT NOT NULL UNIQUE,
  -- The user code, normalized (8 letters of BCDFGHJKLMNPQRSTVWXZ, no dash). Not a
  -- credential: it names a request that a logged-in user must still confirm, and
  -- at ~35 bits a hash of it would be reversed at once. Its guards are the
  -- 10-minute life and the rate limits on entering codes.
  user_code TEXT NOT NULL UNIQUE,
  client_id TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
  -- JSON arrays: the scopes asked for, and the audiences (RFC 8707) the tokens will be for.
  scopes TEXT NOT NULL,
  audiences TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'redeemed')),
  -- Seconds the client must wait between polls; each slow_down adds 5 (RFC 8628 §3.5).
  interval_seconds INTEGER NOT NULL,
  last_polled_at INTEGER,
  -- What the latest poll was answered (pending, slow_down, denied, redeemed, expired,
  -- spent): set by the poll's own UPDATE, so RETURNING tells each poll its outcome.
  last_poll_result TEXT,
  -- Set on approval: who approved, the login they approved with, the scopes
  -- granted, and the grant id the tokens will carry as sid.
  user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
  granted_scopes TEXT,
  amr TEXT,
  auth_time INTEGER,
  grant_id TEXT,
  decided_at INTEGER,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE INDEX device_authorizations_expires ON device_authorizations (expires_at);
