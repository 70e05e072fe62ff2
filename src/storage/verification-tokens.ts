/**
 * @module storage/verification-tokens
 * D1 access to `email_verification_tokens`: single-use, expiring, stored as SHA-256.
 */

export class VerificationTokenStore {
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  async insert(tokenHash: string, userId: string, expiresAt: number, now: number): Promise<void> {
    await this.#db
      .prepare(
        "INSERT INTO email_verification_tokens (token_hash, user_id, expires_at, created_at) VALUES (?, ?, ?, ?)",
      )
      .bind(tokenHash, userId, expiresAt, now)
      .run();
  }

  /**
   * Spends the token and returns its user id, or null if it is unknown, used or
   * expired. One UPDATE ... RETURNING does check and spend atomically, so two
   * concurrent requests with the same token cannot both succeed.
   */
  async consume(tokenHash: string, now: number): Promise<string | null> {
    const row = await this.#db
      .prepare(
        `UPDATE email_verification_tokens SET used_at = ?
         WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?
         RETURNING user_id`,
      )
      .bind(now, tokenHash, now)
      .first<{ user_id: string }>();
    return row?.user_id ?? null;
  }
}
