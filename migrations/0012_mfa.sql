-- Multi-factor authentication: TOTP authenticators and recovery codes; and an
-- attempt counter for one-time secrets that allow a few wrong tries (the
-- mfa_token of a login waiting for its second factor).

-- One TOTP authenticator per user. The secret (160 bits) is encrypted with
-- AES-GCM under MFA_ENCRYPTION_KEY; key_id names the key, so it can rotate.
CREATE TABLE mfa_totp (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  -- base64url(12-byte IV || ciphertext || tag)
  secret_ciphertext TEXT NOT NULL,
  key_id TEXT NOT NULL,
  -- NULL until a first code confirmed the enrolment; a pending row expires.
  confirmed_at INTEGER,
  pending_expires_at INTEGER,
  -- The highest time step accepted so far: a code is accepted only for a later
  -- step (one guarded UPDATE claims it), so no code works twice.
  last_step INTEGER,
  created_at INTEGER NOT NULL
);

-- Recovery codes: one row per code, only its SHA-256 kept; spent once.
CREATE TABLE mfa_recovery_codes (
  code_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  used_at INTEGER,
  created_at INTEGER NOT NULL
);

CREATE INDEX mfa_recovery_codes_user ON mfa_recovery_codes (user_id);

-- Wrong tries spent on a one-time secret that allows a few (counted by one guarded UPDATE).
ALTER TABLE one_time_secrets ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;

-- Whether the user must pass a second factor at login: 1 exactly while a
-- confirmed TOTP authenticator exists (kept with it in the same transactions),
-- so that a login reads it with the user row, at no extra round trip.
ALTER TABLE users ADD COLUMN mfa_enabled INTEGER NOT NULL DEFAULT 0;
