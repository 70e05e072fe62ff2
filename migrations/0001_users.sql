-- Users and their one-time email verification tokens.
-- Times are Unix epoch milliseconds (INTEGER).

CREATE TABLE users (
  -- 128-bit random, base64url: never sequential, so ids leak nothing.
  id TEXT PRIMARY KEY,
  -- Normalized (trim, NFC, lowercase); unique.
  email TEXT NOT NULL,
  -- Self-describing: pbkdf2-sha256$<iterations>$<pepper id>$<salt>$<hash>
  password_hash TEXT NOT NULL,
  email_verified_at INTEGER,
  -- Access tokens with iat before this (seconds, rounded up) and refresh families
  -- created before it are void: written by logout-all (later: password change, role change).
  tokens_not_before INTEGER NOT NULL DEFAULT 0,
  disabled_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE UNIQUE INDEX users_email_unique ON users (email);

-- Single-use state must be strongly consistent (KV is not), so these live in D1.
CREATE TABLE email_verification_tokens (
  -- SHA-256 (hex) of the token mailed to the user; the token itself is never stored.
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- The password chosen at the signup that sent this token, applied only when
  -- the token is used. A repeated signup for a still-unverified address thus
  -- cannot leave the first signer's password on the account that the address
  -- owner verifies (account pre-hijacking). NULL: keep the user's hash.
  password_hash TEXT,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  created_at INTEGER NOT NULL
);

CREATE INDEX email_verification_tokens_user ON email_verification_tokens (user_id);
CREATE INDEX email_verification_tokens_expires ON email_verification_tokens (expires_at);
