-- Every session a user has, of both kinds, so owners can see and revoke them:
--   cookie  — a browser session; its cookie holds a secret stored here only as SHA-256;
--   refresh — a refresh-token family (its state lives in KV; this row is its index).
-- D1, not KV: a logout must take effect everywhere at once, and listing a user's
-- sessions needs a query by user, neither of which KV offers.
CREATE TABLE sessions (
  -- Public id (used in GET/DELETE /auth/sessions and as the `sid` claim). For
  -- kind=refresh it is the family id.
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('cookie', 'refresh')),
  -- cookie: SHA-256 (hex) of the cookie's secret. NULL for refresh.
  token_hash TEXT UNIQUE,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  -- cookie: idle timeout in ms (sliding); the session dies after last_seen_at + idle_timeout_ms.
  idle_timeout_ms INTEGER,
  -- cookie: logged in with "remember me" (longer timeouts, kept across a password change).
  remember_me INTEGER NOT NULL DEFAULT 0,
  -- Absolute end: cookie sessions' absolute timeout; refresh families' cap.
  expires_at INTEGER NOT NULL,
  ip TEXT,
  user_agent TEXT,
  revoked_at INTEGER
);

CREATE INDEX sessions_user ON sessions (user_id, created_at);
