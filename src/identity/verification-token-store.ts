/**
 * @module storage/verification-tokens
 * D1 access to `email_verification_tokens`: single-use, expiring, stored as SHA-256.
 */

export class VerificationTokenStore {
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  async insert(token: {
    tokenHash: string;
    userId: string;
    pendingPasswordHash: string | null;
    expiresAt: number;
    now: number;
  }): Promise<void> {
    await this.#db
      .prepare(
        `INSERT INTO email_verification_tokens (token_hash, user_id, password_hash, expires_at, created_at)
         VALUES (?, ?, ?, ?, ?)`,
      )
      .bind(token.tokenHash, token.userId, token.pendingPasswordHash, token.expiresAt, token.now)
      .run();
  }

  /** Deletes tokens that expired before `before`; returns how many went. */
  async pruneExpiredBefore(before: number): Promise<number> {
    const result = await this.#db
      .prepare("DELETE FROM email_verification_tokens WHERE expires_at < ?")
      .bind(before)
      .run();
    return result.meta.changes;
  }

  /** Deletes a user's verification tokens (the others die once one is used). */
  async deleteForUser(userId: string): Promise<void> {
    await this.#db.prepare("DELETE FROM email_verification_tokens WHERE user_id = ?").bind(userId).run();
  }

  /**
   * Spends the token and returns its user id and pending password hash, or null if it is unknown, used or
   * expired. One UPDATE ... RETURNING does check and spend atomically, so two
   * concurrent requests with the same token cannot both succeed.
   */
  async consume(tokenHash: string, now: number): Promise<{ user_id: string; password_hash: string | null } | null> {
    const row = await this.#db
      .prepare(
        `UPDATE email_verification_tokens SET used_at = ?
         WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?
         RETURNING user_id, password_hash`,
      )
      .bind(now, tokenHash, now)
      .first<{ user_id: string; password_hash: string | null }>();
    return row ?? null;
  }
}
