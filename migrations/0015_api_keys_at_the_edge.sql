-- API keys other Workers accept: where a key was last accepted, and rotation
-- with a grace period (the previous secret keeps working until it ends).

-- The label the accepting Worker gave (`where`), written with last_used_at.
ALTER TABLE api_keys ADD COLUMN last_used_where TEXT;

-- After a rotation: SHA-256 of the replaced secret, accepted until
-- previous_secret_expires_at (at most 24 h after the rotation), then never.
ALTER TABLE api_keys ADD COLUMN previous_secret_hash TEXT;
ALTER TABLE api_keys ADD COLUMN previous_secret_expires_at INTEGER;
