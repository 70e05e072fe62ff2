/**
 * @module tokens/token-inspector
 * `TokenInspector`: what this server itself knows about an access token it
 * issued, whatever its audience — for introspection (RFC 7662), revocation
 * (RFC 7009) and the userinfo endpoint. Pinned like every verifier (ES256,
 * `typ: at+jwt`, our issuer, exp with the usual clock tolerance) and checked
 * against the revocation list. Failures are null: these endpoints answer
 * "not active", never why.
 */
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";
import { VerifyError } from "../verify/errors";
import type { RevocationReader } from "../verify/revocation";
import { ACCESS_TOKEN_TYP, type AccessTokenClaims, checkRevocation } from "../verify/verifier";
import { CLOCK_SKEW_SECONDS } from "./issuer";
import { ACCESS_TOKEN_ALG } from "./signing-keys";

export interface TokenInspectorOptions {
  issuer: string;
  jwks: JSONWebKeySet;
  revocation: RevocationReader;
}

const LOOKS_LIKE_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export class TokenInspector {
  readonly #o: TokenInspectorOptions;
  readonly #keys: ReturnType<typeof createLocalJWKSet>;

  constructor(options: TokenInspectorOptions) {
    this.#o = options;
    this.#keys = createLocalJWKSet(options.jwks);
  }

  /** The claims of a live access token of ours, or null (malformed, forged, expired, revoked). */
  async activeClaims(token: string, now: number): Promise<AccessTokenClaims | null> {
    const claims = await this.validClaims(token, now);
    if (!claims) return null;
    try {
      await checkRevocation(this.#o.revocation, claims, now);
      return claims;
    } catch (error) {
      if (error instanceof VerifyError) return null;
      throw error;
    }
  }

  /** The claims of a correctly signed, unexpired token of ours, revoked or not; null otherwise. */
  async validClaims(token: string, now: number): Promise<AccessTokenClaims | null> {
    if (token.length > 8192 || !LOOKS_LIKE_JWT.test(token)) return null;
    try {
      const { payload } = await jwtVerify<AccessTokenClaims>(token, this.#keys, {
        algorithms: [ACCESS_TOKEN_ALG],
        typ: ACCESS_TOKEN_TYP,
        issuer: this.#o.issuer,
        clockTolerance: CLOCK_SKEW_SECONDS,
        currentDate: new Date(now),
        requiredClaims: ["sub", "exp", "iat", "jti"],
      });
      return typeof payload.jti === "string" && payload.iat <= Math.floor(now / 1000) + CLOCK_SKEW_SECONDS
        ? payload
        : null;
    } catch {
      return null;
    }
  }
}
