/**
 * @module services/access-tokens
 * RFC 9068 access tokens: ES256 JWTs with `typ: at+jwt` and `kid`. Verification
 * is strict and pinned: one algorithm, the typ, iss, aud, exp with ≤30 s skew,
 * then the revocation list and the user's not-before marker.
 */
import { type JWTPayload, errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { randomId } from "../crypto/random";
import { invalidToken } from "../errors";
import type { RevocationStore } from "../storage/revocation";
import { ACCESS_TOKEN_ALG, type SigningKeys } from "./signing-keys";

export const ACCESS_TOKEN_TYP = "at+jwt";
export const CLOCK_SKEW_SECONDS = 30;

export interface AccessTokenSettings {
  issuer: string;
  /** RFC 9068 `client_id`: the first-party client until OAuth clients exist. */
  clientId: string;
  audience: string;
  ttlSeconds: number;
}

export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  /** The refresh-token family (session) this token was issued for. */
  sid?: string;
  client_id?: string;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  expiresIn: number;
}

export async function issueAccessToken(
  keys: SigningKeys,
  settings: AccessTokenSettings,
  subject: { userId: string; sessionId: string; notBeforeSeconds: number },
  now: number,
): Promise<IssuedAccessToken> {
  // iat is never below the user's not-before marker: a token minted in the same
  // second as a logout-all must survive it, and the marker is rounded up.
  const iat = Math.max(Math.floor(now / 1000), subject.notBeforeSeconds);
  const jti = randomId();
  const token = await new SignJWT({ sid: subject.sessionId, client_id: settings.clientId })
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

export async function verifyAccessToken(
  token: string,
  keys: SigningKeys,
  settings: AccessTokenSettings,
  revocation: RevocationStore,
  now: number,
): Promise<AccessTokenClaims> {
  let claims: AccessTokenClaims;
  try {
    const result = await jwtVerify<AccessTokenClaims>(token, keys.resolve, {
      // Pinned: no `none`, no HS256-with-the-public-key confusion, no other curve.
      algorithms: [ACCESS_TOKEN_ALG],
      typ: ACCESS_TOKEN_TYP,
      issuer: settings.issuer,
      audience: settings.audience,
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: new Date(now),
      requiredClaims: ["sub", "exp", "iat", "jti"],
    });
    claims = result.payload;
    if (typeof claims.sub !== "string" || typeof claims.jti !== "string")
      throw invalidToken("the access token is invalid");
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw invalidToken("the access token has expired");
    if (error instanceof joseErrors.JOSEError || error instanceof TypeError)
      throw invalidToken("the access token is invalid");
    throw error;
  }
  // Three independent KV reads, in parallel: the token, its session, its user.
  const [jtiRevoked, sessionRevoked, notBefore] = await Promise.all([
    revocation.isJtiRevoked(claims.jti, now),
    typeof claims.sid === "string" ? revocation.isSessionRevoked(claims.sid, now) : false,
    revocation.notBefore(claims.sub, now),
  ]);
  if (jtiRevoked || sessionRevoked || claims.iat < notBefore) throw invalidToken("the access token has been revoked");
  return claims;
}
