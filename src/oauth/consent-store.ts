/**
 * @module oauth/consent-store
 * D1 access to `oauth_consents`: what each user allowed each client.
 */

export interface ConsentRow {
  client_id: string;
  client_name: string;
  scopes: string;
  granted_at: number;
}

export class ConsentStore {
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  async scopesFor(userId: string, clientId: string): Promise<string[] | null> {
    const row = await this.#db
      .prepare("SELECT scopes FROM oauth_consents WHERE user_id = ? AND client_id = ?")
      .bind(userId, clientId)
      .first<{ scopes: string }>();
    return row ? (JSON.parse(row.scopes) as string[]) : null;
  }

  async save(userId: string, clientId: string, scopes: string[], now: number): Promise<void> {
    await this.#db
      .prepare(
        `INSERT INTO oauth_consents (user_id, client_id, scopes, granted_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at`,
      )
      .bind(userId, clientId, JSON.stringify(scopes), now)
      .run();
  }

  async list(userId: string): Promise<ConsentRow[]> {
    const { results } = await this.#db
      .prepare(
        `SELECT c.client_id, k.name AS client_name, c.scopes, c.granted_at
         FROM oauth_consents c JOIN oauth_clients k ON k.id = c.client_id
         WHERE c.user_id = ? ORDER BY c.granted_at DESC`,
      )
      .bind(userId)
      .all<ConsentRow>();
    return results;
  }

  /** Deletes the consent and revokes the user's refresh families of that client, in one batch. */
  async revoke(userId: string, clientId: string, now: number): Promise<{ removed: boolean; families: string[] }> {
    const [deleted, revoked] = await this.#db.batch<{ id: string }>([
      this.#db.prepare("DELETE FROM oauth_consents WHERE user_id = ? AND client_id = ?").bind(userId, clientId),
      this.#db
        .prepare(
          `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND client_id = ? AND revoked_at IS NULL RETURNING id`,
        )
        .bind(now, userId, clientId),
    ]);
    return { removed: (deleted?.meta.changes ?? 0) > 0, families: (revoked?.results ?? []).map((row) => row.id) };
  }
}
