-- Security events: who did what, from where. Written off the response path;
-- pruned by the daily cron after AUDIT_RETENTION_DAYS.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at INTEGER NOT NULL,
  event TEXT NOT NULL,
  user_id TEXT,
  ip TEXT,
  user_agent TEXT,
  country TEXT,
  request_id TEXT,
  -- JSON object; internal reasons (e.g. why a login failed) live here, never in responses.
  details TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_log_user_time ON audit_log (user_id, created_at);
CREATE INDEX audit_log_time ON audit_log (created_at);

-- Devices (user-agent family + country) a user has logged in from, for new-device mail.
CREATE TABLE known_devices (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  device TEXT NOT NULL,
  first_seen_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, device)
);
