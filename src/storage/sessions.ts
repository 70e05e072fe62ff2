/**
 * @module storage/sessions
 * D1 access to `sessions`: cookie sessions (authoritative here) and the index of
 * refresh-token families (authoritative in KV; indexed here for listing).
 */

import { collect, type Grants, RoleStore } from "./roles";
import type { UserRecord } from "./users";

export type SessionKind = "cookie" | "refresh";

export interface SessionRow {
  id: string;
  user_id: string;
  kind: SessionKind;
  token_hash: string | null;
  created_at: number;
  last_seen_at: number;
  idle_timeout_ms: number | null;
  remember_me: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
  revoked_at: number | null;
}

/** A cookie session joined with what deciding its validity needs from its user. */
export interface CookieSessionRow extends SessionRow {
  tokens_not_before: number;
  disabled_at: number | null;
}

export interface NewSession {
  id: string;
  userId: string;
  kind: SessionKind;
  tokenHash: string | null;
  now: number;
  idleTimeoutMs: number | null;
  rememberMe?: boolean;
  expiresAt: number;
  ip: string | null;
  userAgent: string | null;
}

export class SessionStore {
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  async insert(session: NewSession): Promise<void> {
    await this.#db
      .prepare(
        `INSERT INTO sessions (id, user_id, kind, token_hash, created_at, last_seen_at, idle_timeout_ms, remember_me, expires_at, ip, user_agent)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        session.id,
        session.userId,
        session.kind,
        session.tokenHash,
        session.now,
        session.now,
        session.idleTimeoutMs,
        session.rememberMe ? 1 : 0,
        session.expiresAt,
        session.ip,
        session.userAgent?.slice(0, 512) ?? null,
      )
      .run();
  }

  findCookieSession(tokenHash: string): Promise<CookieSessionRow | null> {
    return this.#db
      .prepare(
        `SELECT s.*, u.tokens_not_before, u.disabled_at FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = ? AND s.kind = 'cookie'`,
      )
      .bind(tokenHash)
      .first<CookieSessionRow>();
  }

  /**
   * What a refresh needs from D1, in one batch (one round trip, one consistent
   * snapshot): the user, whether the family's session row is revoked, and the
   * user's grants. A family with no row (older than the sessions table) counts
   * as not revoked.
   */
  async refreshSnapshot(
    userId: string,
    familyId: string,
  ): Promise<{ user: UserRecord; sessionRevoked: boolean; grants: Grants } | null> {
    const [userRows, grantRows] = await this.#db.batch([
      this.#db
        .prepare(
          `SELECT u.*, (SELECT revoked_at FROM sessions WHERE id = ?1 AND user_id = ?2) AS session_revoked_at
           FROM users u WHERE u.id = ?2`,
        )
        .bind(familyId, userId),
      RoleStore.grantsStatement(this.#db, userId),
    ]);
    const row = userRows?.results[0] as (UserRecord & { session_revoked_at: number | null }) | undefined;
    if (!row) return null;
    const { session_revoked_at, ...user } = row;
    const grants = collect((grantRows?.results ?? []) as { role: string; permission: string | null }[]);
    return { user, sessionRevoked: session_revoked_at !== null, grants };
  }

  async touch(id: string, now: number): Promise<void> {
    await this.#db.prepare("UPDATE sessions SET last_seen_at = MAX(last_seen_at, ?) WHERE id = ?").bind(now, id).run();
  }

  /**
   * The user's sessions that are still alive: not revoked, not past their end or
   * idle timeout, not older than a logout-all. Newest first.
   */
  async listLive(userId: string, now: number): Promise<SessionRow[]> {
    const { results } = await this.#db
      .prepare(
        `SELECT s.* FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.user_id = ? AND s.revoked_at IS NULL AND s.expires_at > ?
           AND (s.idle_timeout_ms IS NULL OR s.last_seen_at + s.idle_timeout_ms > ?)
           AND s.created_at >= u.tokens_not_before
         ORDER BY s.created_at DESC LIMIT 200`,
      )
      .bind(userId, now, now)
      .all<SessionRow>();
    return results;
  }

  /** One of the user's sessions by public id; null for someone else's (so callers answer 404). */
  findOwned(id: string, userId: string): Promise<SessionRow | null> {
    return this.#db.prepare("SELECT * FROM sessions WHERE id = ? AND user_id = ?").bind(id, userId).first<SessionRow>();
  }

  async revoke(id: string, now: number): Promise<void> {
    await this.#db.prepare("UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?").bind(now, id).run();
  }

  /** Deletes old rows: revoked or ended more than `before`. */
  async pruneEndedBefore(before: number): Promise<number> {
    const result = await this.#db
      .prepare("DELETE FROM sessions WHERE expires_at < ? OR revoked_at < ?")
      .bind(before, before)
      .run();
    return result.meta.changes;
  }
}
