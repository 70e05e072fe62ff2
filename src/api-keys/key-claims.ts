/**
 * @module api-keys/key-claims
 * What a Worker that accepts an API key learns about it: claims shaped like an
 * access token's (`edgelock/verify`'s `AccessTokenClaims`), so `requireScope`,
 * `requirePermission` and `can()` judge a key as they judge a token. A key's
 * `permissions` are its scopes that its owner still holds right now (roles
 * read from D1 with the key), so removing a role shrinks every key at once; a key carries
 * no `roles`, because an ACL naming a role must not widen a key past its scopes.
 */
import { grantWithin } from "../verify/policy";
import type { ApiKeyClaims } from "../verify/verifier";
import type { KeyIdentity } from "./service";

/** How long another Worker may rely on one answer (`exp`), at most: the bound on seeing a revocation late. */
export const KEY_ANSWER_TTL_SECONDS = 60;

/** `client_id` and `sid` of everything a key authenticates: its public prefix, so revoking the key can name them. */
export function keyPrincipalId(keyId: string): string {
  return `elk_${keyId}`;
}

export interface KeyClaimsOptions {
  issuer: string;
  audience: string;
}

export class KeyClaims {
  readonly #o: KeyClaimsOptions;

  constructor(options: KeyClaimsOptions) {
    this.#o = options;
  }

  /** The key's scopes its owner holds now; the rest are dropped. */
  effectiveScopes(key: KeyIdentity): string[] {
    return key.scopes.filter((scope) => grantWithin(scope, key.ownerPermissions, key.userId));
  }

  of(key: KeyIdentity, now: number): ApiKeyClaims {
    const permissions = this.effectiveScopes(key);
    const iat = Math.floor(now / 1000);
    const keyEnds = key.expiresAt === null ? Number.POSITIVE_INFINITY : Math.floor(key.expiresAt / 1000);
    const principal = keyPrincipalId(key.keyId);
    return {
      iss: this.#o.issuer,
      sub: key.userId,
      aud: this.#o.audience,
      iat,
      exp: Math.min(iat + KEY_ANSWER_TTL_SECONDS, keyEnds),
      jti: principal,
      client_id: principal,
      key_id: key.keyId,
      principal: "api_key",
      scope: permissions.join(" "),
      roles: [],
      permissions,
    };
  }
}
