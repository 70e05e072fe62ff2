/**
 * @module oauth/id-tokens
 * `IdTokens`: OpenID Connect ID tokens (Core §2). RS256 unless the client
 * registered ES256 (`id_token_signed_response_alg`); `aud` is the client;
 * `at_hash` binds the token to the access token issued beside it (§3.1.3.6);
 * `nonce` is the one from the authorization request; email claims only with
 * the `email` scope.
 */
import { createLocalJWKSet, jwtVerify, SignJWT } from "jose";
import type { UserRecord } from "../identity/user-store";
import { sha256 } from "../lib/crypto/digest";
import { base64url } from "../lib/crypto/encoding";
import type { SessionRef } from "../sessions/session-tokens";
import type { SigningKeys } from "../tokens/signing-keys";
import type { ClientRecord } from "./clients/client-store";
import { parseScope } from "./scopes";

export interface IdTokenRequest {
  client: ClientRecord;
  user: UserRecord;
  session: SessionRef;
  scope: string;
  now: number;
  nonce?: string;
  /** The access token issued with it, for `at_hash`. */
  accessToken?: string;
}

export interface IdTokensOptions {
  keys: SigningKeys;
  issuer: string;
  ttlSeconds: number;
}

export class IdTokens {
  readonly #o: IdTokensOptions;

  constructor(options: IdTokensOptions) {
    this.#o = options;
  }

  /** The algorithms ID tokens can be signed with here (what discovery lists). */
  get algorithms(): ("RS256" | "ES256")[] {
    return this.#o.keys.has("RS256") ? ["RS256", "ES256"] : ["ES256"];
  }

  /** The `sub` of an ID token we issued to `clientId` (an id_token_hint); null when it is not one. */
  async hintSubject(token: string, clientId: string, now: number): Promise<string | null> {
    const hint = await this.readHint(token, now);
    return hint && hint.clientId === clientId ? hint.subject : null;
  }

  /** Whose ID token this is and for which client, if we issued it (expired or not); null otherwise. */
  async readHint(token: string, now: number): Promise<{ subject: string; clientId: string } | null> {
    try {
      const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(this.#o.keys.publicJwks), {
        algorithms: this.algorithms,
        issuer: this.#o.issuer,
        currentDate: new Date(now),
        clockTolerance: HINT_MAX_AGE_SECONDS,
        requiredClaims: ["sub", "aud"],
      });
      // An access token is no hint (RFC 9068 marks those `typ: at+jwt`).
      if (protectedHeader.typ === "at+jwt") return null;
      if (typeof payload.sub !== "string" || typeof payload.aud !== "string") return null;
      return { subject: payload.sub, clientId: payload.aud };
    } catch {
      return null;
    }
  }

  async issue(request: IdTokenRequest): Promise<string> {
    // A deployment without an RSA key signs ID tokens with its EC key (and says so in discovery).
    const alg = this.#o.keys.has(request.client.idTokenAlg) ? request.client.idTokenAlg : "ES256";
    const signer = await this.#o.keys.signer(alg);
    const iat = Math.floor(request.now / 1000);
    const scopes = parseScope(request.scope);
    const claims: Record<string, unknown> = {
      auth_time: Math.floor(request.session.authTime / 1000),
      amr: [...request.session.amr],
      acr: acrOf(request.session.amr),
      sid: request.session.id,
      ...(request.nonce !== undefined ? { nonce: request.nonce } : {}),
      ...(request.accessToken !== undefined ? { at_hash: await atHash(request.accessToken) } : {}),
      ...(scopes.includes("email")
        ? { email: request.user.email, email_verified: request.user.email_verified_at !== null }
        : {}),
    };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: signer.alg, typ: "JWT", kid: signer.kid })
      .setIssuer(this.#o.issuer)
      .setSubject(request.user.id)
      .setAudience(request.client.id)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.#o.ttlSeconds)
      .sign(signer.key);
  }
}

/**
 * The `acr` values (OIDC Core §2): a login with a second factor, or without.
 * No registry names these levels, so they are edgelock's own URNs, listed in discovery.
 */
export const ACR_VALUES = { multiFactor: "urn:edgelock:acr:mfa", singleFactor: "urn:edgelock:acr:1fa" } as const;

function acrOf(amr: readonly string[]): string {
  return amr.includes("mfa") ? ACR_VALUES.multiFactor : ACR_VALUES.singleFactor;
}

/** An id_token_hint may have expired long ago (OIDC Core §3.1.2.1); only its signature, issuer and audience count. */
const HINT_MAX_AGE_SECONDS = 10 * 365 * 86_400;

/** OIDC Core §3.1.3.6: base64url of the left half of SHA-256 of the access token's ASCII octets. */
export async function atHash(accessToken: string): Promise<string> {
  const digest = await sha256(accessToken);
  return base64url(digest.slice(0, digest.length / 2));
}
