-- Development/test mail transport: messages are kept here instead of being sent,
-- and served by GET /_dev/outbox outside production.
CREATE TABLE mail_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  recipient TEXT NOT NULL,
  subject TEXT NOT NULL,
  text_body TEXT NOT NULL,
  html_body TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE INDEX mail_outbox_recipient ON mail_outbox (recipient, id);
