-- The key that decides whether two addresses are one account: NFKC and case
-- folding of the stored address (src/lib/email.ts emailKey), unique. SQL has
-- no Unicode normalization, so this fills it only where it equals the stored
-- address: ASCII-only addresses (ASCII lower case is already folded). Rows
-- with other characters keep NULL and are found by their stored address until
-- `npm run users:email-keys` computes their keys; it reports addresses whose
-- keys collide (two accounts that are one address) instead of merging them.
ALTER TABLE users ADD COLUMN email_key TEXT;
UPDATE users SET email_key = email WHERE email NOT GLOB '*[^ -~]*';
CREATE UNIQUE INDEX users_email_key_unique ON users (email_key);
