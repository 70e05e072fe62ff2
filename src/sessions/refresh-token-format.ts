/**
 * @module sessions/refresh-token-format
 * The refresh token's wire format, `elr_<family id>.<secret>`: the family id
 * (public: it is the access tokens' `sid`) lets refresh read the family first,
 * and a token's successor is derived from the token and its record's seed.
 */
import { hmacSha256 } from "../lib/crypto/digest";
import { base64url, fromBase64url } from "../lib/crypto/encoding";

const TOKEN_PREFIX = "elr_";
export const TOKEN_BYTES = 32; // 256 bits

/** `elr_<family id>.<secret>`: the family id (public: it is the access tokens' `sid`) lets refresh read the family first. */
export function formatToken(familyId: string, secret: string): string {
  return `${TOKEN_PREFIX}${familyId}.${secret}`;
}

/** The family id a well-formed refresh token names; null for anything else. */
export function familyIdOf(token: string): string | null {
  if (!token.startsWith(TOKEN_PREFIX)) return null;
  const parts = token.slice(TOKEN_PREFIX.length).split(".");
  if (parts.length !== 2) return null;
  const [familyId, secret] = parts as [string, string];
  // Exactly what we issue: a 128-bit id and a 256-bit secret, base64url.
  if (familyId.length !== 22 || secret.length !== 43 || !fromBase64url(familyId) || !fromBase64url(secret)) {
    return null;
  }
  return familyId;
}

export async function deriveSuccessor(token: string, familyId: string, seed: string): Promise<string> {
  return formatToken(familyId, base64url(await hmacSha256(token, seed)));
}
