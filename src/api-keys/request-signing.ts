/**
 * @module api-keys/request-signing
 * Signed requests for service-to-service calls: HMAC-SHA256 over a canonical
 * string (below), with an API key's id as the key id. The signing secret is
 * derived — HMAC(REQUEST_SIGNING_SECRET, "edgelock/request-signing/" + key id) —
 * so it is never stored anywhere, and shown once when a key is created with
 * `signing: true`. A signature is accepted within ±5 minutes of its timestamp,
 * and once: its nonce is claimed in the NonceStore Durable Object.
 *
 * Headers: X-Edgelock-Key-Id, X-Edgelock-Timestamp (Unix seconds),
 * X-Edgelock-Nonce (16–128 of A-Z a-z 0-9 - _), X-Edgelock-Signature
 * (base64url of the HMAC). Canonical string, lines joined by "\n":
 *   EDGELOCK-HMAC-SHA256
 *   <METHOD, upper case>
 *   <path as the URL parser normalizes it (new URL(url).pathname: dot segments resolved)>
 *   <query: the raw name=value pairs as sent, sorted as strings, joined by "&"; empty if none;
 *    each name at most once>
 *   <timestamp>
 *   <nonce>
 *   <lower-case hex SHA-256 of the body bytes (of "" when there is no body)>
 */

import { hmacSha256, sha256 } from "../lib/crypto/digest";
import { base64url, fromBase64url, hex } from "../lib/crypto/encoding";
import { timingSafeEqual } from "../lib/crypto/timing-safe";

export const SIGNATURE_WINDOW_MS = 5 * 60_000;
export const SIGNING_ALGORITHM = "EDGELOCK-HMAC-SHA256";
const NONCE_SHAPE = /^[A-Za-z0-9_-]{16,128}$/;

export interface SignedRequestParts {
  method: string;
  /** The URL as received (path and query are taken from it verbatim). */
  url: string;
  timestamp: string;
  nonce: string;
  /** Lower-case hex SHA-256 of the body bytes (of "" when there is none): see `bodySha256`. */
  bodySha256: string;
}

const BODY_HASH_SHAPE = /^[0-9a-f]{64}$/;

/** The body's hash as the canonical string wants it; a Worker that verifies over RPC sends this, not the body. */
export async function bodySha256(body: Uint8Array<ArrayBuffer>): Promise<string> {
  return hex(await sha256(body));
}

export async function signingSecretFor(masterSecret: string, keyId: string): Promise<string> {
  return base64url(await hmacSha256(masterSecret, `edgelock/request-signing/${keyId}`));
}

export async function canonicalString(parts: SignedRequestParts): Promise<string> {
  const url = new URL(parts.url);
  const rawQuery = url.search.startsWith("?") ? url.search.slice(1) : url.search;
  const pairs = rawQuery === "" ? [] : rawQuery.split("&");
  // Whole raw pairs, compared as strings: one order whatever the input.
  pairs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [
    SIGNING_ALGORITHM,
    parts.method.toUpperCase(),
    url.pathname,
    pairs.join("&"),
    parts.timestamp,
    parts.nonce,
    parts.bodySha256,
  ].join("\n");
}

export async function sign(secret: string, parts: SignedRequestParts): Promise<string> {
  return base64url(await hmacSha256(secret, await canonicalString(parts)));
}

export type SignatureCheck = { ok: true; expiresAt: number } | { ok: false; reason: string };

/** Checks shape, time window and signature (not the nonce: the caller claims it). */
export async function checkSignature(
  secret: string,
  parts: SignedRequestParts,
  signature: string,
  now: number,
): Promise<SignatureCheck> {
  if (!/^\d{1,12}$/.test(parts.timestamp)) return { ok: false, reason: "malformed timestamp" };
  if (hasDuplicateQueryNames(parts.url)) {
    // Sorting makes ?a=1&a=2 and ?a=2&a=1 sign alike while a route reads the first:
    // a captured request could be reordered. So a name may appear once.
    return { ok: false, reason: "duplicate query parameter" };
  }
  if (!NONCE_SHAPE.test(parts.nonce)) return { ok: false, reason: "malformed nonce" };
  if (!BODY_HASH_SHAPE.test(parts.bodySha256)) return { ok: false, reason: "malformed body hash" };
  const signedAt = Number(parts.timestamp) * 1000;
  if (Math.abs(now - signedAt) > SIGNATURE_WINDOW_MS)
    return { ok: false, reason: "timestamp outside the 5-minute window" };
  const presented = fromBase64url(signature);
  const expected = await hmacSha256(secret, await canonicalString(parts));
  if (!presented || !timingSafeEqual(presented, expected)) return { ok: false, reason: "bad signature" };
  // The nonce must be remembered until the signature could no longer pass the
  // window, with a minute to spare for clocks that disagree.
  return { ok: true, expiresAt: signedAt + SIGNATURE_WINDOW_MS + 60_000 };
}

function hasDuplicateQueryNames(url: string): boolean {
  const names = [...new URL(url).searchParams.keys()];
  return new Set(names).size !== names.length;
}
