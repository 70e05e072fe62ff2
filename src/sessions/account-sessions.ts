/**
 * @module sessions/account-sessions
 * All of one account's sessions, of both kinds: listing them, ending one by
 * id (the owner's /auth/sessions and the admin API go through the same code),
 * ending all of them (logout-all, password change and reset, disabling), and
 * voiding only the access tokens (a role change).
 */
import { notFound } from "../app/errors/codes";
import type { RequestContext } from "../app/request-context";
import type { UserStore } from "../identity/user-store";
import type { BrowserSessions } from "./browser-sessions";
import type { RefreshSessions } from "./refresh-sessions";
import type { RevocationWriter } from "./revocation-store";
import type { SessionKind, SessionRow, SessionStore } from "./session-store";

export interface SessionView {
  id: string;
  kind: SessionKind;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
  /** The OAuth client the session's tokens were issued to, and what it may do; absent for the user's own logins. */
  client_id?: string;
  scope?: string;
}

export interface AccountSessionsOptions {
  store: SessionStore;
  users: UserStore;
  browser: BrowserSessions;
  refresh: RefreshSessions;
  revocation: RevocationWriter;
  /** How long a not-before marker must outlive `now`: every access token issued until now has expired by then. */
  accessTokenHorizonMs: number;
}

export class AccountSessions {
  readonly #o: AccountSessionsOptions;

  constructor(options: AccountSessionsOptions) {
    this.#o = options;
  }

  /** The user's live sessions, newest first. */
  async list(userId: string, now: number): Promise<SessionView[]> {
    return (await this.#o.store.listLive(userId, now)).map(sessionView);
  }

  /**
   * Ends one of the user's sessions, of either kind, and audits it (`by`: the
   * admin who did it). Someone else's session and an unknown one are both 404:
   * ids of other users' sessions reveal nothing.
   */
  async revoke(userId: string, sessionId: string, ctx: RequestContext, by?: string): Promise<SessionKind> {
    const row = await this.#o.store.findOwned(sessionId, userId);
    if (!row || row.revoked_at !== null) throw notFound("no such session");
    if (row.kind === "cookie") await this.#o.browser.end(row.id, ctx.now);
    else await this.#o.refresh.revokeFamily(row.id, userId, ctx.now);
    ctx.audit.record("session_revoked", userId, { session_id: row.id, kind: row.kind, ...(by ? { by } : {}) }, ctx.now);
    return row.kind;
  }

  /** Every refresh token and cookie session of the user dies, and every access token issued before now. */
  async endAll(userId: string, now: number): Promise<void> {
    // Rounded up to the next second: `iat` has one-second resolution, and a token
    // minted in this very second before the call must die too. Tokens minted
    // after the call get iat >= the marker (see TokenIssuer).
    const notBeforeSeconds = Math.ceil(now / 1000);
    await Promise.all([
      this.#o.users.raiseTokensNotBefore(userId, now, now),
      this.#setNotBefore(userId, notBeforeSeconds, now),
    ]);
  }

  /**
   * Voids every access token of the user issued until now, but keeps sessions:
   * their next refresh gets tokens with the user's current roles.
   */
  async expireAccessTokens(userId: string, now: number): Promise<void> {
    await Promise.all([
      this.#o.users.raiseAccessNotBefore(userId, now, now),
      this.#setNotBefore(userId, Math.ceil(now / 1000), now),
    ]);
  }

  #setNotBefore(userId: string, notBeforeSeconds: number, now: number): Promise<void> {
    const keepUntil = notBeforeSeconds * 1000 + this.#o.accessTokenHorizonMs;
    return this.#o.revocation.setNotBefore(userId, notBeforeSeconds, keepUntil, now);
  }
}

function sessionView(row: SessionRow): SessionView {
  return {
    id: row.id,
    kind: row.kind,
    created_at: new Date(row.created_at).toISOString(),
    last_seen_at: new Date(row.last_seen_at).toISOString(),
    expires_at: new Date(row.expires_at).toISOString(),
    ip: row.ip,
    user_agent: row.user_agent,
    ...(row.client_id ? { client_id: row.client_id, scope: row.scope ?? "" } : {}),
  };
}
