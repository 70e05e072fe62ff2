/**
 * @module services/access-tokens
 * RFC 9068 access tokens: ES256 JWTs with `typ: at+jwt` and `kid`. Verification
 * is strict and pinned: one algorithm, the typ, iss, aud, exp with ≤30 s skew,
 * then the revocation list and the user's not-before marker.
 */
import { SignJWT } from "jose";
import { invalidToken } from "../app/errors/codes";
import type { Grants } from "../authz/role-store";
import { randomId } from "../lib/crypto/random";
import { VerifyError, type VerifyErrorCode } from "../verify/errors";
import type { RevocationStore } from "../verify/revocation";
import {
  ACCESS_TOKEN_TYP,
  type AccessTokenClaims,
  checkRevocation,
  createVerifier,
  MAX_CLOCK_TOLERANCE_SECONDS,
  type Verifier,
} from "../verify/verifier";
import { ACCESS_TOKEN_ALG, type SigningKeys } from "./signing-keys";

export type { AccessTokenClaims };

/** Clock tolerance of every verifier; revocation records outlive `exp` by this much. */
export const CLOCK_SKEW_SECONDS = MAX_CLOCK_TOLERANCE_SECONDS;

export interface AccessTokenSettings {
  issuer: string;
  /** RFC 9068 `client_id`: the first-party client until OAuth clients exist. */
  clientId: string;
  audience: string;
  ttlSeconds: number;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  expiresIn: number;
}

export async function issueAccessToken(
  keys: SigningKeys,
  settings: AccessTokenSettings,
  subject: { userId: string; sessionId: string; notBeforeSeconds: number; grants?: Grants },
  now: number,
): Promise<IssuedAccessToken> {
  // iat is never below the user's not-before marker: a token minted in the same
  // second as a logout-all must survive it, and the marker is rounded up.
  const iat = Math.max(Math.floor(now / 1000), subject.notBeforeSeconds);
  const jti = randomId();
  const token = await new SignJWT({
    sid: subject.sessionId,
    client_id: settings.clientId,
    ...(subject.grants ? grantClaims(subject.grants) : {}),
  })
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, typ: ACCESS_TOKEN_TYP, kid: keys.signing.kid })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setSubject(subject.userId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + settings.ttlSeconds)
    .setJti(jti)
    .sign(keys.signing.key);
  return { token, jti, expiresIn: iat + settings.ttlSeconds - Math.floor(now / 1000) };
}

/**
 * Roles and permissions ride in the token so edge verifiers decide without a
 * call. A user with very many permissions would make every request heavy, so
 * the list is capped; `permissions_truncated` tells verifiers to ask the auth
 * Worker (or deny) rather than trust an incomplete list.
 */
export const MAX_TOKEN_PERMISSIONS = 64;

function grantClaims(grants: Grants): Record<string, unknown> {
  const truncated = grants.permissions.length > MAX_TOKEN_PERMISSIONS;
  return {
    roles: grants.roles,
    permissions: grants.permissions.slice(0, MAX_TOKEN_PERMISSIONS),
    ...(truncated ? { permissions_truncated: true } : {}),
  };
}

// One verifier per key set and settings per isolate: its key resolver keeps the
// imported public keys, and importing a key costs more than verifying with it.
const verifiers = new WeakMap<SigningKeys, Map<string, Verifier>>();

export function verifierFor(keys: SigningKeys, settings: AccessTokenSettings): Verifier {
  let bySettings = verifiers.get(keys);
  if (!bySettings) {
    bySettings = new Map();
    verifiers.set(keys, bySettings);
  }
  const cacheKey = `${settings.issuer} ${settings.audience}`;
  let verifier = bySettings.get(cacheKey);
  if (!verifier) {
    verifier = createVerifier({
      issuer: settings.issuer,
      audience: settings.audience,
      jwks: keys.publicJwks,
      algorithms: [ACCESS_TOKEN_ALG],
      clockTolerance: CLOCK_SKEW_SECONDS,
    });
    bySettings.set(cacheKey, verifier);
  }
  return verifier;
}

/**
 * The auth Worker's own check of a bearer token: the same verifier other
 * Workers import (src/verify), plus the revocation list and not-before marker.
 */
export async function verifyAccessToken(
  token: string,
  keys: SigningKeys,
  settings: AccessTokenSettings,
  revocation: RevocationStore,
  now: number,
): Promise<AccessTokenClaims> {
  try {
    const claims = await verifierFor(keys, settings).verify(token, { now });
    await checkRevocation(revocation, claims, now);
    return claims;
  } catch (error) {
    if (error instanceof VerifyError) throw invalidToken(DESCRIPTIONS[error.code]);
    throw error;
  }
}

const DESCRIPTIONS: Record<VerifyErrorCode, string> = {
  invalid_token: "the access token is invalid",
  token_expired: "the access token has expired",
  token_revoked: "the access token has been revoked",
  invalid_audience: "the access token is invalid",
  invalid_issuer: "the access token is invalid",
  jwks_unavailable: "the access token could not be checked",
};
