/**
 * @module lib/crypto/pbkdf2
 * PBKDF2-HMAC-SHA256 through Web Crypto. Cloudflare's production runtime refuses
 * more than 100,000 iterations, so that is the ceiling every caller must respect.
 */

export const PBKDF2_MAX_ITERATIONS = 100_000;

export async function pbkdf2Sha256(
  secret: Uint8Array<ArrayBuffer>,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
  lengthBytes = 32,
): Promise<Uint8Array<ArrayBuffer>> {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > PBKDF2_MAX_ITERATIONS) {
    // Local workerd would happily run more, and production would then throw at
    // login time; fail the same way everywhere instead.
    throw new RangeError(`PBKDF2 iterations must be 1..${PBKDF2_MAX_ITERATIONS}, got ${iterations}`);
  }
  const key = await crypto.subtle.importKey("raw", secret, "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    lengthBytes * 8,
  );
  return new Uint8Array(bits);
}
