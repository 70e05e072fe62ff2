/**
 * @module tokens/access-token-verifier
 * The auth Worker's own check of a bearer token: the same verifier other
 * Workers import (src/verify), pinned to ES256, plus the revocation list and
 * the user's not-before marker.
 */
import { invalidToken } from "../app/errors/codes";
import { VerifyError, type VerifyErrorCode } from "../verify/errors";
import type { RevocationReader } from "../verify/revocation";
import { type AccessTokenClaims, checkRevocation, createVerifier, type Verifier } from "../verify/verifier";
import { type AccessTokenDefaults, CLOCK_SKEW_SECONDS } from "./issuer";
import { ACCESS_TOKEN_ALG, type SigningKeys } from "./signing-keys";

export type { AccessTokenClaims };

/** What the RPC entrypoint answers: error classes do not survive RPC, so failures are values. */
export type TokenCheck =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; code: VerifyErrorCode; message: string };

const DESCRIPTIONS: Record<VerifyErrorCode, string> = {
  invalid_token: "the access token is invalid",
  token_expired: "the access token has expired",
  token_revoked: "the access token has been revoked",
  invalid_audience: "the access token is invalid",
  invalid_issuer: "the access token is invalid",
  jwks_unavailable: "the access token could not be checked",
};

// One verifier per key set and settings per isolate: its key resolver keeps the
// imported public keys, and importing a key costs more than verifying with it.
const verifiers = new WeakMap<SigningKeys, Map<string, Verifier>>();

function verifierFor(keys: SigningKeys, settings: AccessTokenDefaults): Verifier {
  let bySettings = verifiers.get(keys);
  if (!bySettings) {
    bySettings = new Map();
    verifiers.set(keys, bySettings);
  }
  const cacheKey = `${settings.issuer} ${settings.audience}`;
  let verifier = bySettings.get(cacheKey);
  if (!verifier) {
    verifier = createVerifier({
      issuer: settings.issuer,
      audience: settings.audience,
      jwks: keys.publicJwks,
      algorithms: [ACCESS_TOKEN_ALG],
      clockTolerance: CLOCK_SKEW_SECONDS,
    });
    bySettings.set(cacheKey, verifier);
  }
  return verifier;
}

export class AccessTokenVerifier {
  readonly #verifier: Verifier;
  readonly #revocation: RevocationReader;

  constructor(options: { keys: SigningKeys; defaults: AccessTokenDefaults; revocation: RevocationReader }) {
    this.#verifier = verifierFor(options.keys, options.defaults);
    this.#revocation = options.revocation;
  }

  /** The token's claims; throws invalid_token (RFC 6750) for any token that does not pass. */
  async verify(token: string, now: number): Promise<AccessTokenClaims> {
    const check = await this.check(token, now);
    // Fixed texts: which check failed (audience, issuer) is not the client's business.
    if (!check.ok) throw invalidToken(DESCRIPTIONS[check.code]);
    return check.claims;
  }

  /** The same check, answering failures as values with their `code` (expired, revoked, …). */
  async check(token: string, now: number): Promise<TokenCheck> {
    try {
      const claims = await this.#verifier.verify(token, { now });
      await checkRevocation(this.#revocation, claims, now);
      return { ok: true, claims };
    } catch (error) {
      if (!(error instanceof VerifyError)) throw error;
      return { ok: false, code: error.code, message: error.message };
    }
  }
}
