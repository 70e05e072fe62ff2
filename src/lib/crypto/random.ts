/**
 * @module lib/crypto/random
 * Unpredictable identifiers and secrets from the platform CSPRNG (crypto.getRandomValues).
 */
import { base64url } from "./encoding";

export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** A URL-safe secret with `bytes * 8` bits of entropy. */
export function randomToken(bytes = 32): string {
  return base64url(randomBytes(bytes));
}

/**
 * A random, non-sequential identifier (128 bits). Sequential ids leak sign-up
 * volume and invite enumeration, so every id we hand out is random.
 */
export function randomId(): string {
  return randomToken(16);
}
