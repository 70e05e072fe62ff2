-- Passkeys (WebAuthn credentials): one row per registered credential. Only the
-- public key is kept; the private key never leaves the authenticator.
CREATE TABLE passkeys (
  -- Our id for the passkey (random), used in /auth/passkeys/{id}.
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- The authenticator's credential id (base64url), unique across all users.
  credential_id TEXT NOT NULL UNIQUE,
  -- The COSE public key (base64url).
  public_key TEXT NOT NULL,
  -- The signature counter last seen; 0 for authenticators that do not count (synced passkeys).
  counter INTEGER NOT NULL DEFAULT 0,
  -- JSON array of transports the browser reported ("internal", "hybrid", "usb", ...).
  transports TEXT NOT NULL DEFAULT '[]',
  aaguid TEXT NOT NULL,
  -- 1: the credential is backed up (synced to other devices).
  backed_up INTEGER NOT NULL DEFAULT 0,
  -- "singleDevice" or "multiDevice".
  device_type TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
);

CREATE INDEX passkeys_user ON passkeys (user_id);
