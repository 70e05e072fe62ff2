/**
 * @module one-time-secrets/one-time-secret-store
 * D1 access to `one_time_secrets`: every secret that is spent exactly once
 * (email verification, password reset, and the codes and challenges of the
 * features that follow). A row holds only the secret's SHA-256, its purpose,
 * its user, a JSON payload and its expiry; spending is one guarded
 * `UPDATE … RETURNING`, so two concurrent spends cannot both succeed.
 */

export interface NewOneTimeSecret {
  tokenHash: string;
  purpose: string;
  userId: string | null;
  payload: Record<string, unknown> | null;
  expiresAt: number;
  now: number;
  /**
   * Finds the secret without the secret itself (see findBySubject); issuing
   * one deletes the earlier secrets of the same subject and purpose. Null: none.
   */
  subject?: string | null;
}

export interface SpentSecret {
  userId: string | null;
  payload: Record<string, unknown> | null;
}

/**
 * A statement to run in the same transaction as the spend, given SQL that
 * names the spent secret's user (with its parameters): the change only happens
 * if the secret is live, and the secret is only spent if the batch commits.
 */
export type SpendEffect = (userIdSql: string, params: unknown[]) => D1PreparedStatement;

interface SpentRow {
  user_id: string | null;
  payload: string | null;
}

/** A live secret found by its subject: `tokenHash` names it to spend it or count a wrong try. */
export interface SubjectSecret extends SpentSecret {
  tokenHash: string;
}

const LIVE = "token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?";

export class OneTimeSecretStore {
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  async insert(secret: NewOneTimeSecret): Promise<void> {
    const insert = this.#db
      .prepare(
        `INSERT INTO one_time_secrets (token_hash, purpose, user_id, payload, expires_at, created_at, subject)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        secret.tokenHash,
        secret.purpose,
        secret.userId,
        secret.payload === null ? null : JSON.stringify(secret.payload),
        secret.expiresAt,
        secret.now,
        secret.subject ?? null,
      );
    if (!secret.subject) {
      await insert.run();
      return;
    }
    // One transaction: the subject's earlier secrets go exactly when the new one comes.
    await this.#db.batch([
      this.#db
        .prepare("DELETE FROM one_time_secrets WHERE subject = ? AND purpose = ?")
        .bind(secret.subject, secret.purpose),
      insert,
    ]);
  }

  /** The newest live secret of `subject` and `purpose`, without spending it; null if there is none. */
  async findBySubject(subject: string, purpose: string, now: number): Promise<SubjectSecret | null> {
    const row = await this.#db
      .prepare(
        `SELECT token_hash, user_id, payload FROM one_time_secrets
         WHERE subject = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?
         ORDER BY created_at DESC LIMIT 1`,
      )
      .bind(subject, purpose, now)
      .first<SpentRow & { token_hash: string }>();
    return row ? { tokenHash: row.token_hash, ...spent(row) } : null;
  }

  /** A live secret of `purpose` without spending it (to check what spending needs first); null if there is none. */
  async peek(tokenHash: string, purpose: string, now: number): Promise<SpentSecret | null> {
    const row = await this.#db
      .prepare(`SELECT user_id, payload FROM one_time_secrets WHERE ${LIVE}`)
      .bind(tokenHash, purpose, now)
      .first<SpentRow>();
    return row ? spent(row) : null;
  }

  /** Spends a live secret of `purpose`; null (and nothing changed) if it is unknown, used or expired. */
  async spend(tokenHash: string, purpose: string, now: number): Promise<SpentSecret | null> {
    const row = await this.#spendStatement(tokenHash, purpose, now).first<SpentRow>();
    return row ? spent(row) : null;
  }

  /**
   * Spends the secret and runs `effects` in one transaction (a D1 batch; see
   * SpendEffect); answers the spent secret and how many rows each effect changed.
   */
  async spendWith(
    tokenHash: string,
    purpose: string,
    now: number,
    effects: SpendEffect[],
  ): Promise<{ secret: SpentSecret; changes: number[] } | null> {
    const userOfLive = `(SELECT user_id FROM one_time_secrets WHERE ${LIVE})`;
    const results = await this.#db.batch<SpentRow>([
      ...effects.map((effect) => effect(userOfLive, [tokenHash, purpose, now])),
      this.#spendStatement(tokenHash, purpose, now),
    ]);
    const row = results.at(-1)?.results[0];
    if (!row) return null;
    return { secret: spent(row), changes: results.slice(0, -1).map((result) => result.meta.changes) };
  }

  /**
   * Counts one wrong try against a live secret; the try that reaches
   * `maxAttempts` spends it. One guarded UPDATE, so concurrent wrong tries
   * cannot exceed the limit. Returns the tries left, or null if it was not live.
   */
  async countFailure(tokenHash: string, purpose: string, maxAttempts: number, now: number): Promise<number | null> {
    const row = await this.#db
      .prepare(
        `UPDATE one_time_secrets SET attempts = attempts + 1,
           used_at = CASE WHEN attempts + 1 >= ? THEN ? ELSE used_at END
         WHERE ${LIVE} RETURNING attempts`,
      )
      .bind(maxAttempts, now, tokenHash, purpose, now)
      .first<{ attempts: number }>();
    return row ? Math.max(0, maxAttempts - row.attempts) : null;
  }

  /** A secret of `purpose` that was already spent (a replay), whether or not it has expired since; null otherwise. */
  async findSpent(tokenHash: string, purpose: string): Promise<SpentSecret | null> {
    const row = await this.#db
      .prepare(
        "SELECT user_id, payload FROM one_time_secrets WHERE token_hash = ? AND purpose = ? AND used_at IS NOT NULL",
      )
      .bind(tokenHash, purpose)
      .first<SpentRow>();
    return row ? spent(row) : null;
  }

  /** Deletes the user's secrets of `purpose` (once one is spent, the others must die). */
  async deleteFor(userId: string, purpose: string): Promise<void> {
    await this.#db
      .prepare("DELETE FROM one_time_secrets WHERE user_id = ? AND purpose = ?")
      .bind(userId, purpose)
      .run();
  }

  /** Deletes secrets that expired before `before`; returns how many went. */
  async pruneExpiredBefore(before: number): Promise<number> {
    const result = await this.#db.prepare("DELETE FROM one_time_secrets WHERE expires_at < ?").bind(before).run();
    return result.meta.changes;
  }

  #spendStatement(tokenHash: string, purpose: string, now: number): D1PreparedStatement {
    return this.#db
      .prepare(`UPDATE one_time_secrets SET used_at = ? WHERE ${LIVE} RETURNING user_id, payload`)
      .bind(now, tokenHash, purpose, now);
  }
}

function spent(row: SpentRow): SpentSecret {
  return {
    userId: row.user_id,
    payload: row.payload === null ? null : (JSON.parse(row.payload) as SpentSecret["payload"]),
  };
}
