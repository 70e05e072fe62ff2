/**
 * @module services/sessions
 * The token service: turns an authenticated user into a token response, and
 * handles refresh, logout and logout-all. A "session" here is a refresh-token
 * family; its id travels in access tokens as the `sid` claim so logout can end it.
 */

import { invalidGrant } from "../app/errors/codes";
import type { Grants, RoleStore } from "../authz/role-store";
import type { UserRecord, UserStore } from "../identity/user-store";
import { type PublicUser, publicUser } from "../identity/users";
import { randomId } from "../lib/crypto/random";
import { logEvent } from "../lib/log";
import {
  type AccessTokenClaims,
  type AccessTokenSettings,
  CLOCK_SKEW_SECONDS,
  issueAccessToken,
} from "../tokens/access-tokens";
import type { SigningKeys } from "../tokens/signing-keys";
import type { RevocationStore } from "../verify/revocation";
import type { FamilyState, RefreshTokenService, ReuseEvent, Rotation } from "./refresh-rotation";
import type { RefreshSnapshot, SessionStore } from "./session-store";

export interface AccessTokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
}

export interface TokenResponse extends AccessTokenResponse {
  refresh_token: string;
  user: PublicUser;
}

/** Who the session was started from, for the owner's session list. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

const NO_CLIENT: ClientInfo = { ip: null, userAgent: null };

/** How stale a refresh family's `last_seen_at` may get (as for cookie sessions). */
const LAST_SEEN_INTERVAL_MS = 60_000;

export interface RefreshOptions {
  /** Must allow the request before it is answered (the per-IP rate limit); runs beside the reads. */
  gate?: Promise<unknown>;
  /** Told about reuse after the grace window (the family is already ended), so the caller can audit it. */
  onReuse?: (event: ReuseEvent) => void;
  /** Takes work that need not delay the answer (ctx.waitUntil); without it, that work is awaited. */
  background?: (work: Promise<unknown>) => void;
}

export class SessionService {
  readonly #users: UserStore;
  readonly #refreshTokens: RefreshTokenService;
  readonly #revocation: RevocationStore;
  readonly #keys: SigningKeys;
  readonly #accessTokens: AccessTokenSettings;
  readonly #index: SessionStore;
  readonly #familyMaxAgeMs: number;
  readonly #familyIdleMs: number;
  readonly #roles: RoleStore;

  constructor(
    users: UserStore,
    refreshTokens: RefreshTokenService,
    revocation: RevocationStore,
    keys: SigningKeys,
    accessTokens: AccessTokenSettings,
    index: { store: SessionStore; familyMaxAgeMs: number; familyIdleMs: number },
    roles: RoleStore,
  ) {
    this.#users = users;
    this.#refreshTokens = refreshTokens;
    this.#revocation = revocation;
    this.#keys = keys;
    this.#accessTokens = accessTokens;
    this.#index = index.store;
    this.#familyMaxAgeMs = index.familyMaxAgeMs;
    this.#familyIdleMs = index.familyIdleMs;
    this.#roles = roles;
  }

  /** A new session (refresh family) for a user who just proved who they are. */
  async start(user: UserRecord, now: number, client: ClientInfo = NO_CLIENT): Promise<TokenResponse> {
    const family = { familyId: randomId(), userId: user.id, expiresAt: now + this.#familyMaxAgeMs };
    // The family's row is its authority (revocation, expiry, listing); a token
    // whose row is missing is refused, so writing both in parallel is safe. The
    // same D1 batch reads the grants for the access token.
    const [token, row] = await Promise.allSettled([
      this.#refreshTokens.startFamily(family, now),
      this.#index.insertWithGrants({
        id: family.familyId,
        userId: user.id,
        kind: "refresh",
        tokenHash: null,
        now,
        // A refresh token unused for its lifetime is dead: so is its family.
        idleTimeoutMs: this.#familyIdleMs,
        expiresAt: family.expiresAt,
        ip: client.ip,
        userAgent: client.userAgent,
      }),
    ]);
    if (token.status === "rejected") {
      // No token was handed out: the row must not linger as a live session in the owner's list.
      if (row.status === "fulfilled") {
        await this.#index.revoke(family.familyId, now).catch((error: unknown) => {
          logEvent("error", "session_revoke_failed", { session_id: family.familyId, error: String(error) });
        });
      }
      throw token.reason;
    }
    if (row.status === "rejected") throw row.reason; // the token alone is refused: its family is unknown
    return this.#respond(user, token.value, family.familyId, now, row.value);
  }

  /** A short-lived access token for an existing session (a cookie session's `sid`), with no refresh token. */
  async accessTokenFor(
    user: UserRecord,
    sessionId: string,
    now: number,
    knownGrants?: Grants,
  ): Promise<AccessTokenResponse> {
    const notBeforeSeconds = Math.ceil(Math.max(user.tokens_not_before, user.access_not_before) / 1000);
    // Read at every issue (by the caller, or here): a role change shows in the
    // next token, and the marker it raises kills the older ones.
    const grants = knownGrants ?? (await this.#roles.grantsFor(user.id));
    const access = await issueAccessToken(
      this.#keys,
      this.#accessTokens,
      { userId: user.id, sessionId, notBeforeSeconds, grants },
      now,
    );
    return { access_token: access.token, token_type: "Bearer", expires_in: access.expiresIn };
  }

  /**
   * Rotates a refresh token. `gate` (the per-IP rate limit) runs beside the
   * reads and must allow the request before it is answered; `background` takes
   * work that need not delay the answer (ctx.waitUntil).
   */
  async refresh(refreshToken: string, now: number, options: RefreshOptions = {}): Promise<TokenResponse> {
    // One D1 round trip (a batch: one consistent snapshot, so a role change cannot
    // land between the user row and the roles).
    const load = (familyId: string) => this.#index.refreshSnapshot(familyId);
    const authorize = (found: RefreshSnapshot, family: FamilyState) => {
      // D1 is the strongly consistent authority for "is this user still allowed":
      // disabled accounts and families older than a logout-all are refused here
      // at once, everywhere, before the token is spent.
      const user = found.user;
      if (!user || user.disabled_at !== null || family.created_at < user.tokens_not_before) {
        throw invalidGrant("the refresh token has been revoked");
      }
    };
    // The family is dead; so are the access tokens it issued.
    const revokeFamily = async (event: ReuseEvent) => {
      await Promise.all([
        this.#index.revoke(event.familyId, now),
        this.#revocation.revokeSession(event.familyId, this.#accessTokenHorizon(now), now).catch(() => {}),
      ]);
      options.onReuse?.(event);
    };
    const respond = async (rotated: Rotation<RefreshSnapshot>) => {
      const { user, family, grants } = rotated.authorized;
      if (!user || !family) throw invalidGrant("the refresh token has been revoked");
      // Last use, for the owner's session list: at most once a minute, and never
      // on the response path (the refresh decision does not depend on it).
      if (now - family.last_seen_at >= LAST_SEEN_INTERVAL_MS) {
        const touch = this.#index.touch(rotated.familyId, now).catch((error: unknown) => {
          logEvent("error", "session_touch_failed", { session_id: rotated.familyId, error: String(error) });
        });
        if (options.background) options.background(touch);
        else await touch;
      }
      return this.#respond(user, rotated.token, rotated.familyId, now, grants);
    };
    return this.#refreshTokens.rotate(refreshToken, now, {
      load,
      authorize,
      revokeFamily,
      gate: options.gate,
      respond,
    });
  }

  /** Ends the session of `claims` (and of `refreshToken`, if it is the same user's) and revokes the access token. */
  async logout(claims: AccessTokenClaims, refreshToken: string | undefined, now: number): Promise<void> {
    const families = new Set<string>();
    if (claims.sid) families.add(claims.sid);
    if (refreshToken) {
      const owner = await this.#refreshTokens.familyOf(refreshToken, now);
      // Another user's refresh token is ignored rather than revoked: logout must
      // not become a way to end someone else's session.
      if (owner && owner.userId === claims.sub) families.add(owner.familyId);
    }
    await Promise.all([
      ...[...families].map((familyId) => this.#index.revokeOwned(familyId, claims.sub, now)),
      ...(claims.sid ? [this.#revocation.revokeSession(claims.sid, this.#accessTokenHorizon(now), now)] : []),
      // Kept past `exp` by the verifiers' clock tolerance: they still accept the token that long.
      this.#revocation.revokeJti(claims.jti, (claims.exp + CLOCK_SKEW_SECONDS) * 1000, now),
    ]);
  }

  /** Every refresh token of the user dies and every access token issued before now is rejected. */
  async logoutAll(userId: string, now: number): Promise<void> {
    // Rounded up to the next second: `iat` has one-second resolution, and a token
    // minted in this very second before the call must die too. Tokens minted
    // after the call get iat >= the marker (see issueAccessToken).
    const notBeforeSeconds = Math.ceil(now / 1000);
    const keepUntil = this.#accessTokenHorizon(notBeforeSeconds * 1000);
    await Promise.all([
      this.#users.raiseTokensNotBefore(userId, now, now),
      this.#revocation.setNotBefore(userId, notBeforeSeconds, keepUntil, now),
    ]);
  }

  /**
   * Voids every access token of the user issued until now, but keeps sessions:
   * their next refresh gets tokens with the user's current roles.
   */
  async expireAccessTokens(userId: string, now: number): Promise<void> {
    const notBeforeSeconds = Math.ceil(now / 1000);
    await Promise.all([
      this.#users.raiseAccessNotBefore(userId, now, now),
      this.#revocation.setNotBefore(userId, notBeforeSeconds, this.#accessTokenHorizon(notBeforeSeconds * 1000), now),
    ]);
  }

  /** Ends one refresh family of the user's (DELETE /auth/sessions/{id}) and every access token it issued. */
  async revokeFamily(familyId: string, userId: string, now: number): Promise<void> {
    await Promise.all([
      this.#index.revokeOwned(familyId, userId, now),
      this.#revocation.revokeSession(familyId, this.#accessTokenHorizon(now), now),
    ]);
  }

  /** How long revoked-sid records must live: until every access token issued now has expired. */
  get accessTokenHorizonMs(): number {
    return this.#accessTokenHorizon(0);
  }

  /** When every access token issued up to `now` has expired, clock tolerance included. */
  #accessTokenHorizon(now: number): number {
    return now + (this.#accessTokens.ttlSeconds + CLOCK_SKEW_SECONDS + 1) * 1000;
  }

  async #respond(
    user: UserRecord,
    refreshToken: string,
    familyId: string,
    now: number,
    grants?: Grants,
  ): Promise<TokenResponse> {
    const access = await this.accessTokenFor(user, familyId, now, grants);
    return { ...access, refresh_token: refreshToken, user: publicUser(user) };
  }
}
