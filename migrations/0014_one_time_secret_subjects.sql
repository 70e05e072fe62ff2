-- A one-time secret that must also be found without the secret itself: a
-- magic link's 6-digit code is typed with the address, not the link, so its
-- row is found by `subject` (a SHA-256 of the purpose and the address's key,
-- never the address itself). At most one live secret per subject and purpose:
-- issuing a new one deletes the earlier ones. NULL for every other secret.
ALTER TABLE one_time_secrets ADD COLUMN subject TEXT;
CREATE INDEX one_time_secrets_subject ON one_time_secrets (subject, purpose) WHERE subject IS NOT NULL;
