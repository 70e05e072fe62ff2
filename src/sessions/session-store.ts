/**
 * @module sessions/session-store
 * D1 access to `sessions`: cookie sessions and refresh-token families, both
 * authoritative here (the refresh tokens themselves live in KV). Each row
 * records how its user authenticated (`amr`, JSON) and when (`auth_time`).
 */

import { collect, type Grants, RoleStore } from "../authz/role-store";
import type { UserRecord } from "../identity/user-store";

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
  /** JSON array of RFC 8176 method values. */
  amr: string;
  auth_time: number | null;
  /** The OAuth client a refresh family was issued to; null for a first-party login. */
  client_id: string | null;
  scope: string | null;
  /** JSON array of the family's audiences (OAuth families only). */
  audience: string | null;
}

/** A cookie session joined with what deciding its validity needs from its user. */
export interface CookieSessionRow extends SessionRow {
  tokens_not_before: number;
  disabled_at: number | null;
}

/** The user who owns refresh family `?` (no row when there is no such family). */
const FAMILY_OWNER = "(SELECT user_id FROM sessions WHERE id = ? AND kind = 'refresh')";

/** A refresh family as its `sessions` row records it. */
export interface FamilyRow {
  user_id: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  last_seen_at: number;
  amr: string;
  auth_time: number | null;
  client_id: string | null;
  scope: string | null;
  audience: string | null;
}

export interface RefreshSnapshot {
  user: UserRecord | null;
  family: FamilyRow | null;
  grants: Grants;
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
  amr: readonly string[];
  authTime: number;
  /** What an OAuth client's family is bound to. */
  oauth?: OAuthBinding;
}

/** The client, scope and audiences a refresh family issued to an OAuth client is bound to. */
export interface OAuthBinding {
  clientId: string;
  scope: string;
  audiences: string[];
}

export class SessionStore {
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  async insert(session: NewSession): Promise<void> {
    await this.#insertStatement(session).run();
  }

  /**
   * Records a new refresh family and reads its user's grants, in one batch (one
   * round trip on the login path): the access token issued with the family
   * carries the grants.
   */
  async insertWithGrants(session: NewSession): Promise<Grants> {
    const [, grantRows] = await this.#db.batch([
      this.#insertStatement(session),
      RoleStore.grantsStatement(this.#db, session.userId),
    ]);
    return collect((grantRows?.results ?? []) as { role: string; permission: string | null }[]);
  }

  #insertStatement(session: NewSession): D1PreparedStatement {
    return this.#db
      .prepare(
        `INSERT INTO sessions (id, user_id, kind, token_hash, created_at, last_seen_at, idle_timeout_ms, remember_me,
           expires_at, ip, user_agent, amr, auth_time, client_id, scope, audience)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        JSON.stringify(session.amr),
        session.authTime,
        session.oauth?.clientId ?? null,
        session.oauth?.scope ?? null,
        session.oauth ? JSON.stringify(session.oauth.audiences) : null,
      );
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
   * snapshot): the user, the family (its `refresh` row: the family's authority),
   * and the user's grants. No row, no family: the refresh is refused.
   */
  async refreshSnapshot(familyId: string): Promise<RefreshSnapshot> {
    const [familyRows, userRows, grantRows] = await this.#db.batch([
      this.#db
        .prepare(
          `SELECT user_id, created_at, expires_at, revoked_at, last_seen_at, amr, auth_time, client_id, scope, audience
           FROM sessions
           WHERE id = ? AND kind = 'refresh'`,
        )
        .bind(familyId),
      this.#db.prepare(`SELECT * FROM users WHERE id = ${FAMILY_OWNER}`).bind(familyId),
      RoleStore.grantsStatementWhere(this.#db, FAMILY_OWNER, familyId),
    ]);
    const grants = collect((grantRows?.results ?? []) as { role: string; permission: string | null }[]);
    return {
      user: (userRows?.results[0] as UserRecord | undefined) ?? null,
      family: (familyRows?.results[0] as FamilyRow | undefined) ?? null,
      grants,
    };
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

  /** The OAuth client a session was issued to (null for a first-party one, undefined when there is no such session). */
  async clientOf(id: string): Promise<string | null | undefined> {
    const row = await this.#db
      .prepare("SELECT client_id FROM sessions WHERE id = ?")
      .bind(id)
      .first<{ client_id: string | null }>();
    return row ? row.client_id : undefined;
  }

  async revoke(id: string, now: number): Promise<void> {
    await this.#db.prepare("UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?").bind(now, id).run();
  }

  /** Revokes one of `userId`'s sessions; someone else's is left alone. */
  async revokeOwned(id: string, userId: string, now: number): Promise<void> {
    await this.#db
      .prepare("UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND user_id = ?")
      .bind(now, id, userId)
      .run();
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
