-- A user may have no password (passkey-only and magic-link-only accounts): the
-- column becomes nullable. SQLite cannot relax NOT NULL in place, and rebuilding
-- `users` would drop and recreate a table other tables reference (ON DELETE
-- CASCADE), so the column is copied, dropped and renamed instead; the rows
-- and every reference to them stay as they are.
ALTER TABLE users ADD COLUMN password_hash_nullable TEXT;
UPDATE users SET password_hash_nullable = password_hash;
ALTER TABLE users DROP COLUMN password_hash;
ALTER TABLE users RENAME COLUMN password_hash_nullable TO password_hash;

-- How and when the session's user proved who they are: RFC 8176 method values
-- (a JSON array, e.g. ["pwd"]) and the time (epoch ms). Access tokens of the
-- session carry them as `amr` and `auth_time`. Rows from before are password logins.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '["pwd"]';
ALTER TABLE sessions ADD COLUMN auth_time INTEGER;
UPDATE sessions SET auth_time = created_at;
