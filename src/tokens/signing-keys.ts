/**
 * @module services/signing-keys
 * The JWT signing keys, from the JWT_PRIVATE_KEYS secret (a JWK set). The first
 * key signs; every key's public half is published, so a new key can be put in
 * front while tokens signed by the old one stay verifiable until they expire.
 * Imported once per isolate (per secret value): importJWK is not free.
 */
import { type CryptoKey, createLocalJWKSet, importJWK, type JWK } from "jose";
import type { PrivateJwk } from "../app/config";

export const ACCESS_TOKEN_ALG = "ES256";

export interface SigningKeys {
  signing: { kid: string; key: CryptoKey };
  /** The published JWK set: public members only. */
  publicJwks: { keys: JWK[] };
  /** Key resolver for jwtVerify, over the public halves. */
  resolve: ReturnType<typeof createLocalJWKSet>;
}

const PRIVATE_MEMBERS = new Set(["d", "p", "q", "dp", "dq", "qi", "k", "oth", "key_ops", "ext"]);

let cached: { source: PrivateJwk[]; keys: Promise<SigningKeys> } | undefined;

export function getSigningKeys(jwks: PrivateJwk[]): Promise<SigningKeys> {
  if (cached?.source !== jwks) {
    const keys = loadSigningKeys(jwks);
    cached = { source: jwks, keys };
    // A failed import must not be cached for the life of the isolate.
    keys.catch(() => {
      if (cached?.keys === keys) cached = undefined;
    });
  }
  return cached.keys;
}

async function loadSigningKeys(jwks: PrivateJwk[]): Promise<SigningKeys> {
  const [first] = jwks;
  if (!first) throw new Error("JWT_PRIVATE_KEYS holds no key");
  const key = (await importJWK(first, ACCESS_TOKEN_ALG)) as CryptoKey;
  const publicJwks = { keys: jwks.map(publicHalf) };
  return { signing: { kid: first.kid, key }, publicJwks, resolve: createLocalJWKSet(publicJwks) };
}

function publicHalf(jwk: PrivateJwk): JWK {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(jwk)) if (!PRIVATE_MEMBERS.has(name)) out[name] = value;
  return { ...out, alg: ACCESS_TOKEN_ALG, use: "sig" } as JWK;
}
