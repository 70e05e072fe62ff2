/**
 * @module verify/verifier
 * `createVerifier()`: checks edgelock access tokens anywhere — the auth Worker
 * itself, another Worker, any runtime with Web Crypto. No D1, no secrets: only
 * the public JWKS and, optionally, read access to the revocation keys in KV.
 *
 * Strict and pinned, after jose: asymmetric algorithms only (so `none` and
 * HS256-signed-with-the-public-key can never pass), `typ: at+jwt` (RFC 9068),
 * issuer, audience, exp/nbf with at most 30 s of clock tolerance.
 */
import { errors, type JSONWebKeySet, type JWTPayload, jwtVerify } from "jose";
import { VerifyError } from "./errors.js";
import { type JwksFetcher, type JwksSource, RemoteJwks, staticJwks } from "./jwks-cache.js";
import type { KvJsonReader } from "./kv-records.js";
import { RevocationReader } from "./revocation.js";

export const ACCESS_TOKEN_TYP = "at+jwt";
export const MAX_CLOCK_TOLERANCE_SECONDS = 30;
const ASYMMETRIC_ALGORITHMS = new Set([
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
]);

export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  /** The session (refresh-token family) the token belongs to. */
  sid?: string;
  client_id?: string;
  scope?: string;
  roles?: string[];
  /** Grants from the user's roles (see verify/policy.ts); may be cut short, see `permissions_truncated`. */
  permissions?: string[];
  permissions_truncated?: boolean;
  /** How the user authenticated (RFC 8176 values: "pwd", "otp", "mfa", …); absent on machine tokens. */
  amr?: string[];
  /** When the user authenticated (epoch seconds); absent on machine tokens. */
  auth_time?: number;
}

/**
 * What `AuthService.verifyApiKey` / `verifySignedRequest` answer for an API
 * key: the same shape, so the same middleware and `can()` apply. `exp` is how
 * long the answer may be relied on (at most 60 s); `permissions` are the key's
 * scopes its owner still holds; `client_id` and `jti` are the key's public prefix.
 */
export interface ApiKeyClaims extends AccessTokenClaims {
  principal: "api_key";
  key_id: string;
  scope: string;
  roles: [];
  permissions: string[];
}

export interface VerifierOptions {
  issuer: string;
  audience: string;
  /** The JWKS URL (fetched and cached) or the JWK set itself. */
  jwks: string | URL | JSONWebKeySet;
  /** Default ["ES256"]. Only asymmetric algorithms are accepted. */
  algorithms?: string[] | undefined;
  /** Seconds, at most 30 (the default). */
  clockTolerance?: number | undefined;
  /**
   * Refuse tokens issued longer ago than this many seconds (`iat`), whatever
   * their `exp` says (as `token_expired`). Default: no limit beyond `exp`.
   */
  maxTokenAgeSeconds?: number | undefined;
  /**
   * The auth server's REVOCATIONS KV namespace: checks revoked jti/sid and the
   * user's not-before marker. KV bindings cannot be read-only, so bind it only
   * to Workers you trust not to delete revocations (or verify over RPC instead).
   */
  revocation?: KvJsonReader | undefined;
  /** How to fetch a JWKS URL; a service binding to the auth Worker works too. Default: global fetch. */
  fetcher?: JwksFetcher | undefined;
  /** How long one JWKS fetch may take before it counts as failed (default 5000 ms). */
  jwksFetchTimeoutMs?: number | undefined;
  /** Epoch ms for the JWKS cache's expiry and cooldowns; for tests. */
  clock?: (() => number) | undefined;
}

export interface VerifyOptions {
  /** Epoch ms; for tests. */
  now?: number | undefined;
}

export interface Verifier {
  verify(token: string, options?: VerifyOptions): Promise<AccessTokenClaims>;
}

export function createVerifier(options: VerifierOptions): Verifier {
  const algorithms = options.algorithms ?? ["ES256"];
  const unsafe = algorithms.filter((alg) => !ASYMMETRIC_ALGORITHMS.has(alg));
  if (algorithms.length === 0 || unsafe.length > 0) {
    throw new TypeError(
      `createVerifier: only asymmetric algorithms are allowed (refused: ${unsafe.join(", ") || "none given"})`,
    );
  }
  const clockTolerance = Math.min(options.clockTolerance ?? MAX_CLOCK_TOLERANCE_SECONDS, MAX_CLOCK_TOLERANCE_SECONDS);
  const keys: JwksSource =
    typeof options.jwks === "string" || options.jwks instanceof URL
      ? new RemoteJwks(String(options.jwks), {
          fetcher: options.fetcher,
          clock: options.clock,
          fetchTimeoutMs: options.jwksFetchTimeoutMs,
        })
      : staticJwks(options.jwks);
  const revocation = options.revocation ? new RevocationReader(options.revocation) : null;

  return {
    async verify(token, verifyOptions = {}) {
      const now = verifyOptions.now ?? options.clock?.() ?? Date.now();
      let claims: AccessTokenClaims;
      try {
        const result = await jwtVerify<AccessTokenClaims>(token, (header, input) => keys.resolve(header, input), {
          algorithms,
          typ: ACCESS_TOKEN_TYP,
          issuer: options.issuer,
          audience: options.audience,
          clockTolerance,
          currentDate: new Date(now),
          requiredClaims: ["sub", "exp", "iat", "jti"],
          ...(options.maxTokenAgeSeconds !== undefined ? { maxTokenAge: options.maxTokenAgeSeconds } : {}),
        });
        claims = result.payload;
      } catch (error) {
        throw toVerifyError(error);
      }
      if (typeof claims.sub !== "string" || typeof claims.jti !== "string") {
        throw new VerifyError("invalid_token", "the access token is invalid");
      }
      // A token "issued" in the future was minted by a wrong clock or to outlive its
      // lifetime (and to dodge not-before markers, which compare iat): refuse it.
      if (claims.iat > Math.floor(now / 1000) + clockTolerance) {
        throw new VerifyError("invalid_token", "the access token is invalid");
      }
      if (revocation) await checkRevocation(revocation, claims, now);
      return claims;
    },
  };
}

/** The revocation half of verify(), for callers that hold a RevocationReader already. */
export async function checkRevocation(
  revocation: RevocationReader,
  claims: AccessTokenClaims,
  now: number,
): Promise<void> {
  // Three independent KV reads, in parallel: the token, its session, its user.
  const [jtiRevoked, sessionRevoked, notBefore] = await Promise.all([
    revocation.isJtiRevoked(claims.jti, now),
    typeof claims.sid === "string" ? revocation.isSessionRevoked(claims.sid, now) : false,
    revocation.notBefore(claims.sub, now),
  ]);
  if (jtiRevoked || sessionRevoked || claims.iat < notBefore) {
    throw new VerifyError("token_revoked", "the access token has been revoked");
  }
}

/** jose's failures as VerifyErrors; anything else (a bug, an outage) is rethrown as it is. */
function toVerifyError(error: unknown): unknown {
  if (error instanceof VerifyError) return error;
  if (error instanceof errors.JWTExpired) return new VerifyError("token_expired", "the access token has expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "aud") return new VerifyError("invalid_audience", "the access token is not for this audience");
    if (error.claim === "iss") return new VerifyError("invalid_issuer", "the access token is from another issuer");
  }
  if (error instanceof errors.JOSEError || error instanceof TypeError) {
    return new VerifyError("invalid_token", "the access token is invalid");
  }
  return error;
}
