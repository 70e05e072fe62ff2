/**
 * @module authn/mfa/recovery-code-store
 * D1 access to `mfa_recovery_codes`: one row per code, only its SHA-256;
 * spending is one guarded UPDATE.
 */

export class RecoveryCodeStore {
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  /** Replaces the user's whole set, in one transaction. */
  async replace(userId: string, hashes: string[], now: number): Promise<void> {
    await this.#db.batch([
      this.#db.prepare("DELETE FROM mfa_recovery_codes WHERE user_id = ?").bind(userId),
      ...hashes.map((hash) =>
        this.#db
          .prepare("INSERT INTO mfa_recovery_codes (code_hash, user_id, used_at, created_at) VALUES (?, ?, NULL, ?)")
          .bind(hash, userId, now),
      ),
    ]);
  }

  /** Spends the user's unused code with this hash; false when there is none. */
  async spend(userId: string, hash: string, now: number): Promise<boolean> {
    const row = await this.#db
      .prepare(
        "UPDATE mfa_recovery_codes SET used_at = ? WHERE code_hash = ? AND user_id = ? AND used_at IS NULL RETURNING code_hash",
      )
      .bind(now, hash, userId)
      .first();
    return row !== null;
  }

  async remaining(userId: string): Promise<number> {
    const row = await this.#db
      .prepare("SELECT COUNT(*) AS n FROM mfa_recovery_codes WHERE user_id = ? AND used_at IS NULL")
      .bind(userId)
      .first<{ n: number }>();
    return row?.n ?? 0;
  }
}
