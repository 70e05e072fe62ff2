/**
 * @module storage/password-reset-tokens
 * D1 access to `password_reset_tokens`, and the one transaction that spends a
 * token and sets the new password together.
 */

export class PasswordResetTokenStore {
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  async insert(tokenHash: string, userId: string, expiresAt: number, now: number): Promise<void> {
    await this.#db
      .prepare("INSERT INTO password_reset_tokens (token_hash, user_id, expires_at, created_at) VALUES (?, ?, ?, ?)")
      .bind(tokenHash, userId, expiresAt, now)
      .run();
  }

  /**
   * Spends the token and, in the same transaction (a D1 batch), gives its user
   * the new password hash, marks the email verified (the reset link proved the
   * address) and voids every earlier session via the not-before marker.
   * Returns the user id, or null when the token is unknown, used or expired
   * (then nothing changed). A disabled user's token is spent without effect.
   */
  async completeReset(tokenHash: string, newPasswordHash: string, now: number): Promise<string | null> {
    const live = "token_hash = ? AND used_at IS NULL AND expires_at > ?";
    const [, spent] = await this.#db.batch<{ user_id: string }>([
      this.#db
        .prepare(
          `UPDATE users SET password_hash = ?, email_verified_at = COALESCE(email_verified_at, ?),
             tokens_not_before = MAX(tokens_not_before, ?), updated_at = ?
           WHERE disabled_at IS NULL AND id = (SELECT user_id FROM password_reset_tokens WHERE ${live})`,
        )
        .bind(newPasswordHash, now, now, now, tokenHash, now),
      this.#db
        .prepare(`UPDATE password_reset_tokens SET used_at = ? WHERE ${live} RETURNING user_id`)
        .bind(now, tokenHash, now),
    ]);
    return spent?.results[0]?.user_id ?? null;
  }

  /** Deletes tokens that expired before `before`; returns how many went. */
  async pruneExpiredBefore(before: number): Promise<number> {
    const result = await this.#db.prepare("DELETE FROM password_reset_tokens WHERE expires_at < ?").bind(before).run();
    return result.meta.changes;
  }

  async deleteForUser(userId: string): Promise<void> {
    await this.#db.prepare("DELETE FROM password_reset_tokens WHERE user_id = ?").bind(userId).run();
  }
}
