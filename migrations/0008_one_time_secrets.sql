-- One table for every one-time secret (email verification, password reset, and
-- the OAuth codes, magic links and challenges that follow the same pattern):
-- stored only as SHA-256, bound to one purpose, spent exactly once by one
-- guarded UPDATE ... RETURNING, pruned by the daily cron.
CREATE TABLE one_time_secrets (
  -- SHA-256 (hex) of the secret handed out; the secret itself is never stored.
  token_hash TEXT PRIMARY KEY,
  -- What the secret may be spent for ("email_verification", "password_reset", ...);
  -- a secret presented for another purpose is unknown.
  purpose TEXT NOT NULL,
  -- The account the secret acts on, when it has one.
  user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
  -- JSON object with what spending it needs (e.g. a signup's pending password hash); NULL: nothing.
  payload TEXT,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  created_at INTEGER NOT NULL
);

CREATE INDEX one_time_secrets_user ON one_time_secrets (user_id, purpose);
CREATE INDEX one_time_secrets_expires ON one_time_secrets (expires_at);

INSERT INTO one_time_secrets (token_hash, purpose, user_id, payload, expires_at, used_at, created_at)
SELECT token_hash, 'email_verification', user_id,
       CASE WHEN password_hash IS NULL THEN NULL ELSE json_object('password_hash', password_hash) END,
       expires_at, used_at, created_at
FROM email_verification_tokens;

INSERT INTO one_time_secrets (token_hash, purpose, user_id, payload, expires_at, used_at, created_at)
SELECT token_hash, 'password_reset', user_id, NULL, expires_at, used_at, created_at
FROM password_reset_tokens;

DROP TABLE email_verification_tokens;
DROP TABLE password_reset_tokens;
