/**
 * @module authn/mfa/totp-store
 * D1 access to `mfa_totp`: one authenticator per user, its secret sealed, the
 * last time step it accepted. Claiming a step is one guarded UPDATE, so a code
 * is accepted at most once however many requests race with it.
 */

export interface TotpRow {
  user_id: string;
  secret_ciphertext: string;
  key_id: string;
  confirmed_at: number | null;
  pending_expires_at: number | null;
  last_step: number | null;
  created_at: number;
}

export class TotpStore {
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  find(userId: string): Promise<TotpRow | null> {
    return this.#db.prepare("SELECT * FROM mfa_totp WHERE user_id = ?").bind(userId).first<TotpRow>();
  }

  /** A pending enrolment, replacing a pending one; false when a confirmed authenticator exists. */
  async putPending(userId: string, sealed: { keyId: string; ciphertext: string }, expiresAt: number, now: number) {
    const result = await this.#db
      .prepare(
        `INSERT INTO mfa_totp (user_id, secret_ciphertext, key_id, confirmed_at, pending_expires_at, last_step, created_at)
         VALUES (?, ?, ?, NULL, ?, NULL, ?)
         ON CONFLICT (user_id) DO UPDATE SET secret_ciphertext = excluded.secret_ciphertext, key_id = excluded.key_id,
           pending_expires_at = excluded.pending_expires_at, last_step = NULL, created_at = excluded.created_at
         WHERE mfa_totp.confirmed_at IS NULL`,
      )
      .bind(userId, sealed.ciphertext, sealed.keyId, expiresAt, now)
      .run();
    return result.meta.changes > 0;
  }

  /**
   * Claims `step` for the user: succeeds only if no step at or after it was
   * accepted before. `confirming`: also turns a live pending enrolment on.
   */
  async claimStep(userId: string, step: number, now: number, confirming: boolean): Promise<boolean> {
    const claim = `UPDATE mfa_totp SET last_step = ?, confirmed_at = COALESCE(confirmed_at, ?), pending_expires_at = NULL
      WHERE user_id = ? AND (last_step IS NULL OR last_step < ?)`;
    if (!confirming) {
      const statement = this.#db.prepare(`${claim} AND confirmed_at IS NOT NULL RETURNING user_id`);
      return (await statement.bind(step, now, userId, step).first()) !== null;
    }
    // Turning it on: the claim and the user's flag in one transaction; the flag
    // is raised only if the claim confirmed the authenticator.
    const [claimed] = await this.#db.batch([
      this.#db
        .prepare(`${claim} AND confirmed_at IS NULL AND pending_expires_at > ? RETURNING user_id`)
        .bind(step, now, userId, step, now),
      this.#db
        .prepare(
          `UPDATE users SET mfa_enabled = 1
           WHERE id = ? AND EXISTS (SELECT 1 FROM mfa_totp WHERE user_id = ? AND confirmed_at IS NOT NULL)`,
        )
        .bind(userId, userId),
    ]);
    return (claimed?.results.length ?? 0) > 0;
  }

  /**
   * Turns MFA off for the user: the authenticator, the recovery codes and the
   * login flag, in one transaction. True if there was an authenticator.
   */
  async removeAll(userId: string): Promise<boolean> {
    const [deleted] = await this.#db.batch([
      this.#db.prepare("DELETE FROM mfa_totp WHERE user_id = ?").bind(userId),
      this.#db.prepare("DELETE FROM mfa_recovery_codes WHERE user_id = ?").bind(userId),
      this.#db.prepare("UPDATE users SET mfa_enabled = 0 WHERE id = ?").bind(userId),
    ]);
    return (deleted?.meta.changes ?? 0) > 0;
  }
}
