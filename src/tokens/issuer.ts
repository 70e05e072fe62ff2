/**
 * @module tokens/issuer
 * `TokenIssuer`: RFC 9068 access tokens, ES256 JWTs with `typ: at+jwt` and
 * `kid`. Every issue names its principal (a user, or a client acting for
 * itself), the client it is issued to, its audience, scope, session and how
 * the user authenticated; the deployment's settings are only the defaults.
 */
import { SignJWT } from "jose";
import type { Grants } from "../authz/role-store";
import { randomId } from "../lib/crypto/random";
import { ACCESS_TOKEN_TYP, MAX_CLOCK_TOLERANCE_SECONDS } from "../verify/verifier";
import { ACCESS_TOKEN_ALG, type SigningKeys } from "./signing-keys";

/** Clock tolerance of every verifier; revocation records outlive `exp` by this much. */
export const CLOCK_SKEW_SECONDS = MAX_CLOCK_TOLERANCE_SECONDS;

/**
 * Roles and permissions ride in the token so edge verifiers decide without a
 * call. A user with very many permissions would make every request heavy, so
 * the list is capped; `permissions_truncated` tells verifiers to ask the auth
 * Worker (or deny) rather than trust an incomplete list.
 */
export const MAX_TOKEN_PERMISSIONS = 64;

export interface AccessTokenDefaults {
  issuer: string;
  /** RFC 9068 `client_id` for the server's own (first-party) sessions. */
  clientId: string;
  audience: string;
  ttlSeconds: number;
}

/** Whom the token is about: `sub` is a user id, or a client id when a client acts for itself. */
export type Principal = { type: "user"; id: string } | { type: "client"; id: string };

export interface AccessTokenRequest {
  principal: Principal;
  clientId?: string;
  audience?: string | string[];
  /** Space-separated OAuth scopes; omitted from the token when absent. */
  scope?: string;
  /** The `sid` claim: the session (refresh family, cookie session or grant) the token belongs to. */
  sessionId?: string | null;
  /** RFC 8176 methods the user authenticated with, and when (epoch ms). */
  amr?: readonly string[];
  authTime?: number;
  grants?: Grants;
  /** `iat` is never below this (seconds): the user's not-before marker. */
  notBeforeSeconds?: number;
  ttlSeconds?: number;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  expiresIn: number;
}

export class TokenIssuer {
  readonly #keys: SigningKeys;
  readonly #defaults: AccessTokenDefaults;

  constructor(options: { keys: SigningKeys; defaults: AccessTokenDefaults }) {
    this.#keys = options.keys;
    this.#defaults = options.defaults;
  }

  get defaults(): AccessTokenDefaults {
    return this.#defaults;
  }

  async issueAccessToken(request: AccessTokenRequest, now: number): Promise<IssuedAccessToken> {
    const ttl = request.ttlSeconds ?? this.#defaults.ttlSeconds;
    // iat is never below the user's not-before marker: a token minted in the same
    // second as a logout-all must survive it, and the marker is rounded up.
    const iat = Math.max(Math.floor(now / 1000), request.notBeforeSeconds ?? 0);
    const jti = randomId();
    const signer = await this.#keys.signer(ACCESS_TOKEN_ALG);
    const token = await new SignJWT(claimsOf(request, this.#defaults.clientId))
      .setProtectedHeader({ alg: signer.alg, typ: ACCESS_TOKEN_TYP, kid: signer.kid })
      .setIssuer(this.#defaults.issuer)
      .setAudience(request.audience ?? this.#defaults.audience)
      .setSubject(request.principal.id)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .setJti(jti)
      .sign(signer.key);
    return { token, jti, expiresIn: iat + ttl - Math.floor(now / 1000) };
  }

  /** How long revoked-sid records must live: until every access token issued now has expired. */
  get accessTokenHorizonMs(): number {
    return (this.#defaults.ttlSeconds + CLOCK_SKEW_SECONDS + 1) * 1000;
  }
}

function claimsOf(request: AccessTokenRequest, defaultClientId: string): Record<string, unknown> {
  return {
    ...(request.sessionId ? { sid: request.sessionId } : {}),
    client_id: request.clientId ?? defaultClientId,
    ...(request.scope ? { scope: request.scope } : {}),
    ...(request.amr ? { amr: [...request.amr] } : {}),
    ...(request.authTime !== undefined ? { auth_time: Math.floor(request.authTime / 1000) } : {}),
    ...(request.grants ? grantClaims(request.grants) : {}),
  };
}

function grantClaims(grants: Grants): Record<string, unknown> {
  const truncated = grants.permissions.length > MAX_TOKEN_PERMISSIONS;
  return {
    roles: grants.roles,
    permissions: grants.permissions.slice(0, MAX_TOKEN_PERMISSIONS),
    ...(truncated ? { permissions_truncated: true } : {}),
  };
}
