/**
 * @module oauth/pkce
 * PKCE (RFC 7636) with S256 only: `plain` gives no protection against a
 * stolen authorization request, so it is refused (OAuth 2.1 §4.1.1, RFC 9700
 * §2.1.1). Challenges and verifiers are 43–128 unreserved characters (§4.1).
 */
import { sha256 } from "../lib/crypto/digest";
import { base64url } from "../lib/crypto/encoding";
import { timingSafeEqualStrings } from "../lib/crypto/timing-safe";

const VERIFIER_SHAPE = /^[A-Za-z0-9\-._~]{43,128}$/;

export function isWellFormedChallenge(value: string): boolean {
  return VERIFIER_SHAPE.test(value);
}

/** BASE64URL(SHA256(ASCII(code_verifier))) (§4.2). */
export async function s256Challenge(verifier: string): Promise<string> {
  return base64url(await sha256(verifier));
}

/** Whether `verifier` is well formed and answers `challenge`; compared in constant time. */
export async function verifierMatches(verifier: string, challenge: string): Promise<boolean> {
  if (!VERIFIER_SHAPE.test(verifier)) return false;
  return timingSafeEqualStrings(await s256Challenge(verifier), challenge);
}
