/**
 * @module mail/outbox-store
 * D1 access to `mail_outbox`, the development/test mail transport's mailbox.
 */

export interface OutboxMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  created_at: string;
}

interface OutboxRow {
  recipient: string;
  subject: string;
  text_body: string;
  html_body: string;
  created_at: number;
}

export class OutboxStore {
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  async insert(message: { to: string; subject: string; text: string; html: string }, now: number): Promise<void> {
    await this.#db
      .prepare("INSERT INTO mail_outbox (recipient, subject, text_body, html_body, created_at) VALUES (?, ?, ?, ?, ?)")
      .bind(message.to, message.subject, message.text, message.html, now)
      .run();
  }

  /** Newest last; at most `limit` messages. */
  async listFor(recipient: string, limit = 50): Promise<OutboxMessage[]> {
    const { results } = await this.#db
      .prepare(`SELECT * FROM (SELECT * FROM mail_outbox WHERE recipient = ? ORDER BY id DESC LIMIT ?) ORDER BY id ASC`)
      .bind(recipient, limit)
      .all<OutboxRow>();
    return results.map((row) => ({
      to: row.recipient,
      subject: row.subject,
      text: row.text_body,
      html: row.html_body,
      created_at: new Date(row.created_at).toISOString(),
    }));
  }
}
