/**
 * @module lib/crypto/timing-safe
 * Constant-time comparison, so that how long a comparison takes never tells an
 * attacker how many leading bytes of a secret they guessed right.
 */
import { utf8Bytes } from "./encoding";

export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  // workerd ships crypto.subtle.timingSafeEqual; it throws on unequal lengths,
  // and the length of a digest is not secret, so we answer false up front.
  if (a.byteLength !== b.byteLength) return false;
  const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual?: (x: Uint8Array, y: Uint8Array) => boolean };
  if (typeof subtle.timingSafeEqual === "function") return subtle.timingSafeEqual(a, b);
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

export function timingSafeEqualStrings(a: string, b: string): boolean {
  return timingSafeEqual(utf8Bytes(a), utf8Bytes(b));
}
