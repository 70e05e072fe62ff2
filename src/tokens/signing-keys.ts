/**
 * @module tokens/signing-keys
 * The JWT signing keys, from the JWT_PRIVATE_KEYS secret (a JWK set of EC P-256
 * and RSA keys). For each algorithm the first key of that algorithm signs
 * (ES256 for access tokens, RS256 for OpenID Connect ID tokens); every key's
 * public half is published, so a new key can be put in front while tokens
 * signed by the old one stay verifiable until they expire.
 * Imported once per isolate (per secret value), each key when first used: importJWK is not free.
 */
import { type CryptoKey, importJWK, type JWK } from "jose";
import type { PrivateJwk } from "../app/config";

export type SigningAlgorithm = "ES256" | "RS256";

/** Access tokens are always ES256 (RFC 9068 tokens verified at the edge). */
export const ACCESS_TOKEN_ALG: SigningAlgorithm = "ES256";

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  key: CryptoKey;
}

export interface SigningKeys {
  /** The key that signs with `alg`; throws when the set has none. */
  signer(alg: SigningAlgorithm): Promise<SigningKey>;
  /** Whether the set can sign with `alg`. */
  has(alg: SigningAlgorithm): boolean;
  /** The published JWK set: public members only, each with its `alg`. */
  publicJwks: { keys: JWK[] };
}

const PRIVATE_MEMBERS = new Set(["d", "p", "q", "dp", "dq", "qi", "k", "oth", "key_ops", "ext"]);

let cached: { source: PrivateJwk[]; keys: SigningKeys } | undefined;

export function getSigningKeys(jwks: PrivateJwk[]): SigningKeys {
  if (cached?.source !== jwks) cached = { source: jwks, keys: signingKeys(jwks) };
  return cached.keys;
}

function signingKeys(jwks: PrivateJwk[]): SigningKeys {
  const imported = new Map<SigningAlgorithm, Promise<SigningKey>>();
  const first = (alg: SigningAlgorithm) => jwks.find((jwk) => jwk.alg === alg);
  return {
    signer(alg) {
      let key = imported.get(alg);
      if (!key) {
        const jwk = first(alg);
        if (!jwk) return Promise.reject(new Error(`JWT_PRIVATE_KEYS holds no ${alg} key`));
        key = importJWK(jwk, alg).then((cryptoKey) => ({ kid: jwk.kid, alg, key: cryptoKey as CryptoKey }));
        imported.set(alg, key);
        // A failed import must not be cached for the life of the isolate; the
        // caller awaiting `key` still gets the failure.
        const forget = key;
        forget.then(undefined, () => {
          if (imported.get(alg) === forget) imported.delete(alg);
        });
      }
      return key;
    },
    has: (alg) => first(alg) !== undefined,
    publicJwks: { keys: jwks.map(publicHalf) },
  };
}

function publicHalf(jwk: PrivateJwk): JWK {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(jwk)) if (!PRIVATE_MEMBERS.has(name)) out[name] = value;
  return { ...out, alg: jwk.alg, use: "sig" } as JWK;
}
