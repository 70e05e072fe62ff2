/**
 * @module authn/magic-link-secret
 * What a magic link is at rest: a one-time secret of purpose "magic_link"
 * (the token's SHA-256 only, 15 minutes, spent once) whose payload holds the
 * address, the session kind asked for, and the mailed 6-digit code as an
 * HMAC: keyed by a key derived from the password pepper and salted per link,
 * so a copy of the database alone does not give the code away (a plain hash
 * of six digits would: there are only a million). The row's `subject` (a hash
 * of the address's key) is how a code typed with its address finds the link.
 */

import { hmacSha256, sha256Hex } from "../lib/crypto/digest";
import { hex } from "../lib/crypto/encoding";
import { randomBytes, randomToken } from "../lib/crypto/random";
import { timingSafeEqualStrings } from "../lib/crypto/timing-safe";
import { emailKey } from "../lib/email";

export const MAGIC_LINK_TTL_MS = 15 * 60_000;
/** Wrong codes a link survives; the fifth ends it (link and code). */
export const MAGIC_LINK_CODE_TRIES = 5;
/** The `amr` of a magic-link login (RFC 8176 registers no value for it; see docs/passwordless.md). */
export const MAGIC_LINK_AMR = ["email"];

export type MagicLinkMode = "token" | "cookie";

export interface MagicLinkPayload {
  /** The address the link was mailed to (the account's stored address, or the one a signup link creates). */
  email: string;
  /** Using it creates the account (MAGIC_LINK_SIGNUP: the address had none when the link was asked for). */
  signup: boolean;
  mode: MagicLinkMode;
  remember_me: boolean;
  code: { salt: string; hmac: string; pepper_id: string };
}

/** A live link, read before the login flow runs (a read with no effect). */
export interface LiveLink {
  /** SHA-256 of the token: names the row to spend it or to count a wrong code. */
  tokenHash: string;
  userId: string | null;
  payload: MagicLinkPayload;
}

export interface Peppers {
  pepperId: string;
  peppers: Record<string, string>;
}

/** The lookup key of an address's links: not the address, and one per account key. */
export function subjectOf(email: string): Promise<string> {
  return sha256Hex(`edgelock/magic_link:${emailKey(email)}`);
}

/** Six uniformly random digits (rejection sampling: no modulo bias). */
export function randomCode(): string {
  const limit = 4_294_000_000; // the largest multiple of 10^6 below 2^32
  for (;;) {
    const [value] = crypto.getRandomValues(new Uint32Array(1));
    if (value !== undefined && value < limit) return String(value % 1_000_000).padStart(6, "0");
  }
}

/** A link token's shape (256 bits as base64url): anything else is refused before any read. */
export const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** Accepts "123456", "123 456" and "123-456"; null for anything else. */
export function normalizeCode(raw: string): string | null {
  const code = raw.replace(/[\s-]/g, "");
  return /^\d{6}$/.test(code) ? code : null;
}

async function codeHmac(code: string, salt: string, pepper: string): Promise<string> {
  const key = await hmacSha256(pepper, "edgelock/magic-link-code");
  return hex(await hmacSha256(key, `${salt}:${code}`));
}

/** The at-rest form of a new code, under the current pepper. */
export async function sealCode(code: string, peppers: Peppers): Promise<MagicLinkPayload["code"]> {
  const salt = randomToken(16);
  const pepper = peppers.peppers[peppers.pepperId] ?? "unset";
  return { salt, hmac: await codeHmac(code, salt, pepper), pepper_id: peppers.pepperId };
}

/**
 * Whether `code` is the link's. Without a link (or with a pepper since
 * retired) it still computes one HMAC, so the answer takes the same time.
 */
export async function codeMatches(
  code: string,
  sealed: MagicLinkPayload["code"] | null,
  peppers: Peppers,
): Promise<boolean> {
  const pepper = sealed ? peppers.peppers[sealed.pepper_id] : undefined;
  const salt = sealed?.salt ?? hex(randomBytes(16));
  const current = peppers.peppers[peppers.pepperId] ?? "unset";
  const computed = await codeHmac(code, salt, pepper ?? current);
  return sealed !== null && pepper !== undefined && timingSafeEqualStrings(computed, sealed.hmac);
}

/** The payload as stored, checked for the fields spending needs; null for anything else. */
export function toPayload(raw: Record<string, unknown> | null): MagicLinkPayload | null {
  if (!raw || typeof raw.email !== "string" || typeof raw.code !== "object" || raw.code === null) return null;
  return raw as unknown as MagicLinkPayload;
}
