/**
 * @module api-keys/api-key-store
 * D1 access to `api_keys`.
 */
import { collect, RoleStore } from "../authz/role-store";

export interface ApiKeyRow {
  id: string;
  user_id: string;
  name: string;
  scopes: string;
  secret_hash: string;
  signing: number;
  created_at: number;
  last_used_at: number | null;
  /** The `where` label of the Worker that last accepted the key; null for edgelock itself. */
  last_used_where: string | null;
  expires_at: number | null;
  revoked_at: number | null;
  /** After a rotation: the replaced secret's hash, accepted until previous_secret_expires_at. */
  previous_secret_hash: string | null;
  previous_secret_expires_at: number | null;
}

/** A key with what checking it needs of its owner: whether they exist and are enabled, and their permissions now. */
export interface KeyWithOwner {
  row: ApiKeyRow;
  owner: { disabled_at: number | null } | null;
  ownerPermissions: string[];
}

export class ApiKeyStore {
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  async insert(
    key: Omit<
      ApiKeyRow,
      "last_used_at" | "last_used_where" | "revoked_at" | "previous_secret_hash" | "previous_secret_expires_at"
    >,
  ): Promise<void> {
    await this.#db
      .prepare(
        `INSERT INTO api_keys (id, user_id, name, scopes, secret_hash, signing, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(key.id, key.user_id, key.name, key.scopes, key.secret_hash, key.signing, key.created_at, key.expires_at)
      .run();
  }

  find(id: string): Promise<ApiKeyRow | null> {
    return this.#db.prepare("SELECT * FROM api_keys WHERE id = ?").bind(id).first<ApiKeyRow>();
  }

  /** The key, its owner's state and the owner's permissions: one D1 batch, one round trip, one snapshot. */
  async findWithOwner(id: string): Promise<KeyWithOwner | null> {
    const [key, grants] = await this.#db.batch([
      this.#db
        .prepare(
          `SELECT k.*, u.id AS owner_id, u.disabled_at AS owner_disabled_at
           FROM api_keys k LEFT JOIN users u ON u.id = k.user_id WHERE k.id = ?`,
        )
        .bind(id),
      RoleStore.grantsStatementWhere(this.#db, "(SELECT user_id FROM api_keys WHERE id = ?)", id),
    ]);
    const found = key?.results[0] as
      | (ApiKeyRow & { owner_id: string | null; owner_disabled_at: number | null })
      | undefined;
    if (!found) return null;
    const { owner_id, owner_disabled_at, ...row } = found;
    const permissions = collect((grants?.results ?? []) as { role: string; permission: string | null }[]).permissions;
    return { row, owner: owner_id === null ? null : { disabled_at: owner_disabled_at }, ownerPermissions: permissions };
  }

  async listForUser(userId: string): Promise<ApiKeyRow[]> {
    const { results } = await this.#db
      .prepare("SELECT * FROM api_keys WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 200")
      .bind(userId)
      .all<ApiKeyRow>();
    return results;
  }

  /** Revokes one of the user's keys; false when there is no such live key of theirs. */
  async revoke(id: string, userId: string, now: number): Promise<boolean> {
    const result = await this.#db
      .prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL")
      .bind(now, id, userId)
      .run();
    return result.meta.changes === 1;
  }

  /** Whether `id` is one of the user's keys, already revoked. */
  async isOwnRevoked(id: string, userId: string): Promise<boolean> {
    const row = await this.#db
      .prepare("SELECT 1 AS revoked FROM api_keys WHERE id = ? AND user_id = ? AND revoked_at IS NOT NULL")
      .bind(id, userId)
      .first("revoked");
    return row === 1;
  }

  /** Revokes every live key of the user; returns how many were live. */
  async revokeAllFor(userId: string, now: number): Promise<number> {
    const result = await this.#db
      .prepare("UPDATE api_keys SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
      .bind(now, userId)
      .run();
    return result.meta.changes;
  }

  /** The revocation of every live key of the user that `userIdSql` names, for a batch of the caller's. */
  revokeAllStatement(userIdSql: string, params: unknown[], now: number): D1PreparedStatement {
    return this.#db
      .prepare(`UPDATE api_keys SET revoked_at = ? WHERE revoked_at IS NULL AND user_id = ${userIdSql}`)
      .bind(now, ...params);
  }

  async markUsed(id: string, now: number, where: string | null): Promise<void> {
    await this.#db
      .prepare("UPDATE api_keys SET last_used_at = ?, last_used_where = ? WHERE id = ?")
      .bind(now, where, id)
      .run();
  }

  /**
   * A new secret for one of the user's live keys; the current one stays
   * accepted until `graceEndsAt` (or not at all when that is `now`). False
   * when there is no such live key of theirs.
   */
  async rotate(id: string, userId: string, secretHash: string, graceEndsAt: number, now: number): Promise<boolean> {
    const result = await this.#db
      .prepare(
        `UPDATE api_keys SET previous_secret_hash = secret_hash, previous_secret_expires_at = ?, secret_hash = ?
         WHERE id = ? AND user_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`,
      )
      .bind(graceEndsAt, secretHash, id, userId, now)
      .run();
    return result.meta.changes === 1;
  }
}
