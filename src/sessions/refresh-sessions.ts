/**
 * @module sessions/refresh-sessions
 * `RefreshSessions`: token sessions. A login starts a refresh-token family (its
 * id is the access tokens' `sid`); refresh rotates its token (refresh-rotation.ts),
 * logout ends it. The family's `sessions` row in D1 is its authority.
 */
import { invalidGrant } from "../app/errors/codes";
import type { RequestContext } from "../app/request-context";
import type { AuthenticationResult } from "../authn/types";
import type { Grants } from "../authz/role-store";
import type { UserRecord } from "../identity/user-store";
import { type PublicUser, publicUser } from "../identity/users";
import { randomId } from "../lib/crypto/random";
import { logEvent } from "../lib/log";
import { type Settled, unwrap } from "../lib/settled";
import { CLOCK_SKEW_SECONDS } from "../tokens/issuer";
import type { AccessTokenClaims } from "../verify/verifier";
import type { FamilyState, RefreshTokenService, ReuseEvent, Rotation } from "./refresh-rotation";
import type { RevocationWriter } from "./revocation-store";
import type { OAuthBinding, RefreshSnapshot, SessionStore } from "./session-store";
import { type AccessTokenResponse, parseAmr, type SessionRef, type SessionTokens } from "./session-tokens";

export interface TokenResponse extends AccessTokenResponse {
  refresh_token: string;
  user: PublicUser;
}

/** Who the session was started from, for the owner's session list. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

/** How stale a refresh family's `last_seen_at` may get (as for cookie sessions). */
const LAST_SEEN_INTERVAL_MS = 60_000;

export interface RefreshSessionsOptions {
  rotation: RefreshTokenService;
  store: SessionStore;
  revocation: RevocationWriter;
  tokens: SessionTokens;
  /** A family's absolute cap, and how long it may sit unused. */
  familyMaxAgeMs: number;
  familyIdleMs: number;
}

export interface RefreshOptions {
  /** Must allow the request before it is answered (the per-IP rate limit); runs beside the reads. */
  gate?: Promise<Settled<unknown>>;
  /**
   * The OAuth client presenting the token: a family is refreshed only by the
   * client it was issued to (none: only first-party families). `narrow`
   * checks and narrows the family's binding for this one access token; it
   * throws (invalid_scope, invalid_target) to refuse before the token is spent.
   */
  client?: { id: string; narrow?: (binding: OAuthBinding, holder: { userId: string; grants: Grants }) => OAuthBinding };
}

/** A rotated session, for callers that answer in their own shape (the OAuth token endpoint). */
export interface RefreshedSession {
  user: UserRecord;
  session: SessionRef;
  refreshToken: string;
  access: AccessTokenResponse;
}

export interface StartOptions {
  /** The family id (the tokens' `sid`), when the caller chose it already (an authorization code's grant). */
  familyId?: string;
  oauth?: OAuthBinding;
}

export class RefreshSessions {
  readonly #o: RefreshSessionsOptions;

  constructor(options: RefreshSessionsOptions) {
    this.#o = options;
  }

  /** A new session (refresh family) for a user who just proved who they are. */
  async start(auth: AuthenticationResult, client: ClientInfo, now: number): Promise<TokenResponse> {
    const started = await this.startFamily(auth, client, now);
    return { ...started.access, refresh_token: started.refreshToken, user: publicUser(started.user) };
  }

  /** A new family, answered as its parts; `options.oauth` binds it to an OAuth client. */
  async startFamily(
    auth: AuthenticationResult,
    client: ClientInfo,
    now: number,
    options: StartOptions = {},
  ): Promise<RefreshedSession> {
    const { user } = auth;
    const familyId = options.familyId ?? randomId();
    const family = { familyId, userId: user.id, expiresAt: now + this.#o.familyMaxAgeMs };
    const session: SessionRef = { id: familyId, amr: auth.amr, authTime: auth.authTime, oauth: options.oauth };
    // The family's row is its authority (revocation, expiry, listing); a token
    // whose row is missing is refused, so writing both in parallel is safe. The
    // same D1 batch reads the grants for the access token.
    const [token, row] = await Promise.allSettled([
      this.#o.rotation.startFamily(family, now),
      this.#o.store.insertWithGrants({
        id: family.familyId,
        userId: user.id,
        kind: "refresh",
        tokenHash: null,
        now,
        // A refresh token unused for its lifetime is dead: so is its family.
        idleTimeoutMs: this.#o.familyIdleMs,
        expiresAt: family.expiresAt,
        ip: client.ip,
        userAgent: client.userAgent,
        amr: auth.amr,
        authTime: auth.authTime,
        oauth: options.oauth,
      }),
    ]);
    if (token.status === "rejected") {
      // No token was handed out: the row must not linger as a live session in the owner's list.
      if (row.status === "fulfilled") {
        await this.#o.store.revoke(family.familyId, now).catch((error: unknown) => {
          logEvent("error", "session_revoke_failed", { session_id: family.familyId, error: String(error) });
        });
      }
      throw token.reason;
    }
    if (row.status === "rejected") throw row.reason; // the token alone is refused: its family is unknown
    return this.#respond(user, token.value, session, now, row.value);
  }

  /**
   * A grant without a refresh token (an OAuth code exchange without
   * offline_access): a `sessions` row of its own, living as long as its
   * access tokens, so that the owner sees it and ending it (withdrawn consent,
   * a deleted client, the session list) revokes its tokens by `sid`.
   */
  async recordAccessGrant(
    auth: AuthenticationResult,
    client: ClientInfo,
    now: number,
    grant: { id: string; oauth: OAuthBinding },
  ): Promise<SessionRef> {
    await this.#o.store.insert({
      id: grant.id,
      userId: auth.user.id,
      kind: "refresh",
      tokenHash: null,
      now,
      idleTimeoutMs: null,
      expiresAt: this.#horizon(now),
      ip: client.ip,
      userAgent: client.userAgent,
      amr: auth.amr,
      authTime: auth.authTime,
      oauth: grant.oauth,
    });
    return { id: grant.id, amr: auth.amr, authTime: auth.authTime, oauth: grant.oauth };
  }

  /** Rotates a first-party refresh token (one issued by /auth/login). */
  async refresh(refreshToken: string, ctx: RequestContext, options: RefreshOptions = {}): Promise<TokenResponse> {
    const refreshed = await this.rotate(refreshToken, ctx, { ...options, client: undefined });
    return { ...refreshed.access, refresh_token: refreshed.refreshToken, user: publicUser(refreshed.user) };
  }

  /**
   * Rotates a refresh token. `gate` (the per-IP rate limit) runs beside the
   * reads and must allow the request before it is answered.
   */
  async rotate(refreshToken: string, ctx: RequestContext, options: RefreshOptions = {}): Promise<RefreshedSession> {
    const { now } = ctx;
    let binding: OAuthBinding | undefined;
    // One D1 round trip (a batch: one consistent snapshot, so a role change cannot
    // land between the user row and the roles).
    const load = (familyId: string) => this.#o.store.refreshSnapshot(familyId);
    const authorize = (found: RefreshSnapshot, family: FamilyState) => {
      // D1 is the strongly consistent authority for "is this user still allowed":
      // disabled accounts and families older than a logout-all are refused here
      // at once, everywhere, before the token is spent.
      const user = found.user;
      if (!user || user.disabled_at !== null || family.created_at < user.tokens_not_before) {
        throw invalidGrant("the refresh token has been revoked");
      }
      binding = this.#bindingFor(found, options.client);
    };
    // The family is dead; so are the access tokens it issued.
    const revokeFamily = async (event: ReuseEvent) => {
      await Promise.all([
        this.#o.store.revoke(event.familyId, now),
        this.#o.revocation.revokeSession(event.familyId, this.#horizon(now), now).catch((error: unknown) => {
          // The row is revoked (refresh refuses the family); only edge verifiers may see its tokens a while longer.
          logEvent("error", "session_revocation_write_failed", { session_id: event.familyId, error: String(error) });
        }),
      ]);
      ctx.audit.record("refresh_token_reused", event.userId, { family_id: event.familyId }, now);
    };
    const respond = async (rotated: Rotation<RefreshSnapshot>) => {
      const { user, family, grants } = rotated.authorized;
      if (!user || !family) throw invalidGrant("the refresh token has been revoked");
      // Last use, for the owner's session list: at most once a minute, and never
      // on the response path (the refresh decision does not depend on it).
      if (now - family.last_seen_at >= LAST_SEEN_INTERVAL_MS) {
        ctx.defer(this.#o.store.touch(rotated.familyId, now), "session_touch", { session_id: rotated.familyId });
      }
      const session: SessionRef = {
        id: rotated.familyId,
        amr: parseAmr(family.amr),
        authTime: family.auth_time ?? family.created_at,
        oauth: binding,
      };
      return this.#respond(user, rotated.token, session, now, grants);
    };
    const gate = options.gate?.then(unwrap);
    return this.#o.rotation.rotate(refreshToken, now, { load, authorize, revokeFamily, gate, respond });
  }

  /** Ends the session of `claims` (and of `refreshToken`, if it is the same user's) and revokes the access token. */
  async logout(claims: AccessTokenClaims, refreshToken: string | undefined, now: number): Promise<void> {
    const families = new Set<string>();
    if (claims.sid) families.add(claims.sid);
    if (refreshToken) {
      const owner = await this.#o.rotation.familyOf(refreshToken, now);
      // Another user's refresh token is ignored rather than revoked: logout must
      // not become a way to end someone else's session.
      if (owner && owner.userId === claims.sub) families.add(owner.familyId);
    }
    await Promise.all([
      ...[...families].map((familyId) => this.#o.store.revokeOwned(familyId, claims.sub, now)),
      ...(claims.sid ? [this.#o.revocation.revokeSession(claims.sid, this.#horizon(now), now)] : []),
      // Kept past `exp` by the verifiers' clock tolerance: they still accept the token that long.
      this.#o.revocation.revokeJti(claims.jti, (claims.exp + CLOCK_SKEW_SECONDS) * 1000, now),
    ]);
  }

  /** Ends one refresh family of the user's and every access token it issued. */
  async revokeFamily(familyId: string, userId: string, now: number): Promise<void> {
    await Promise.all([
      this.#o.store.revokeOwned(familyId, userId, now),
      this.#o.revocation.revokeSession(familyId, this.#horizon(now), now),
    ]);
  }

  /** RFC 7009: ends the family of `refreshToken` if it was issued to `clientId`; anything else changes nothing. */
  async revokeForClient(refreshToken: string, clientId: string, now: number): Promise<void> {
    const owner = await this.#o.rotation.familyOf(refreshToken, now);
    if (!owner || (await this.#o.store.clientOf(owner.familyId)) !== clientId) return;
    await this.revokeFamily(owner.familyId, owner.userId, now);
  }

  /** The family's OAuth binding, for the client presenting it; invalid_grant when it is another client's. */
  #bindingFor(found: RefreshSnapshot, client: RefreshOptions["client"]): OAuthBinding | undefined {
    const { family } = found;
    const owner = family?.client_id ?? null;
    if (owner !== (client?.id ?? null)) throw invalidGrant("the refresh token was issued to another client");
    if (!family || owner === null) return undefined;
    const binding = { clientId: owner, scope: family.scope ?? "", audiences: parseAudiences(family.audience) };
    // The user's grants as of now (same D1 batch): a permission lost since the consent is not delegated again.
    return client?.narrow ? client.narrow(binding, { userId: family.user_id, grants: found.grants }) : binding;
  }

  /** When every access token issued up to `now` has expired, clock tolerance included. */
  #horizon(now: number): number {
    return now + this.#o.tokens.issuer.accessTokenHorizonMs;
  }

  async #respond(
    user: UserRecord,
    refreshToken: string,
    session: SessionRef,
    now: number,
    grants?: Grants,
  ): Promise<RefreshedSession> {
    const access = await this.#o.tokens.accessToken(user, session, now, grants);
    return { user, session, refreshToken, access };
  }
}

function parseAudiences(column: string | null): string[] {
  const parsed: unknown = column === null ? [] : JSON.parse(column);
  return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === "string") : [];
}
