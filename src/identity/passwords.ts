/**
 * @module identity/passwords
 * Password hashing: HMAC-SHA256 under a secret pepper, then PBKDF2-HMAC-SHA256.
 * Trusts its caller to have applied the password policy (length cap included),
 * so nothing unbounded ever reaches PBKDF2.
 *
 * Stored form (self-describing, so parameters can change without a migration):
 *   pbkdf2-sha256$<iterations>$<pepper id>$<salt, base64url>$<hash, base64url>
 */

import { hmacSha256 } from "../lib/crypto/digest";
import { base64url, fromBase64url, utf8Bytes } from "../lib/crypto/encoding";
import { pbkdf2Sha256 } from "../lib/crypto/pbkdf2";
import { randomBytes, randomToken } from "../lib/crypto/random";
import { timingSafeEqual } from "../lib/crypto/timing-safe";

const ALGORITHM = "pbkdf2-sha256";
const SALT_BYTES = 16;
const HASH_BYTES = 32;

export interface PasswordHashParams {
  iterations: number;
  pepperId: string;
  /** Every pepper that may have been used for a stored hash, keyed by id. */
  peppers: Record<string, string>;
}

interface ParsedHash {
  iterations: number;
  pepperId: string;
  salt: Uint8Array<ArrayBuffer>;
  hash: Uint8Array<ArrayBuffer>;
}

export async function hashPassword(password: string, params: PasswordHashParams): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params.iterations, pepperFor(params, params.pepperId));
  return [ALGORITHM, params.iterations, params.pepperId, base64url(salt), base64url(hash)].join("$");
}

export interface PasswordCheck {
  ok: boolean;
  /** True when the hash was made with other iterations or another pepper: re-hash now. */
  needsRehash: boolean;
}

export async function verifyPassword(
  password: string,
  stored: string,
  params: PasswordHashParams,
): Promise<PasswordCheck> {
  const parsed = parseHash(stored);
  const pepper = parsed ? params.peppers[parsed.pepperId] : undefined;
  if (!parsed || pepper === undefined) {
    // An unreadable hash or a retired pepper must not answer faster than a real check.
    await derive(password, randomBytes(SALT_BYTES), params.iterations, randomToken());
    return { ok: false, needsRehash: false };
  }
  const candidate = await derive(password, parsed.salt, parsed.iterations, pepper);
  const ok = timingSafeEqual(candidate, parsed.hash);
  return { ok, needsRehash: ok && (parsed.iterations !== params.iterations || parsed.pepperId !== params.pepperId) };
}

/**
 * A well-formed hash with the current parameters that no password matches (its
 * "hash" is random bytes). Login verifies against it when the email is unknown,
 * so unknown and known emails cost the same single PBKDF2 run.
 */
export function unmatchableHash(params: PasswordHashParams): string {
  return [
    ALGORITHM,
    params.iterations,
    params.pepperId,
    base64url(randomBytes(SALT_BYTES)),
    base64url(randomBytes(HASH_BYTES)),
  ].join("$");
}

export function parseHash(stored: string): ParsedHash | null {
  const parts = stored.split("$");
  if (parts.length !== 5 || parts[0] !== ALGORITHM) return null;
  const [, iterationsText, pepperId, saltText, hashText] = parts as [string, string, string, string, string];
  const iterations = Number(iterationsText);
  const salt = fromBase64url(saltText);
  const hash = fromBase64url(hashText);
  if (!Number.isInteger(iterations) || iterations < 1 || !salt || !hash || hash.byteLength !== HASH_BYTES) return null;
  return { iterations, pepperId, salt, hash };
}

function pepperFor(params: PasswordHashParams, id: string): string {
  const pepper = params.peppers[id];
  if (pepper === undefined) throw new Error(`no pepper with id ${id}`);
  return pepper;
}

async function derive(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
  pepper: string,
): Promise<Uint8Array<ArrayBuffer>> {
  // Pepper first: a stolen database alone (hashes + salts) is then useless for
  // offline guessing without the Worker secret, which makes up for PBKDF2 being
  // capped at 100,000 iterations on Cloudflare (OWASP asks 600,000).
  const peppered = await hmacSha256(pepper, utf8Bytes(password));
  return pbkdf2Sha256(peppered, salt, iterations, HASH_BYTES);
}
