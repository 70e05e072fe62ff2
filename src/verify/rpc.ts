/**
 * @module verify/rpc
 * The shape of edgelock's `AuthService` RPC entrypoint, as a Worker bound to
 * it (`[[services]] entrypoint = "AuthService"`) sees it. Answers are result
 * objects, never thrown errors: error classes do not survive RPC.
 */
import type { VerifyErrorCode } from "./errors.js";
import type { AccessTokenClaims, ApiKeyClaims } from "./verifier.js";

export type RpcVerifyResult =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; error: "invalid_token"; code: VerifyErrorCode; error_description: string };

/** Why a key or signed request was refused; a key whose secret did not match is always `unknown`. */
export type ApiKeyRefusalCode = "unknown" | "revoked" | "expired" | "owner_disabled" | "bad_signature";

export type RpcApiKeyResult =
  | { ok: true; claims: ApiKeyClaims }
  | { ok: false; error: "invalid_token"; code: ApiKeyRefusalCode; error_description: string };

export interface ApiKeyCheckOptions {
  /** A label for the accepting Worker or route (1–64 of A-Z a-z 0-9 . _ : / -), shown in the owner's key list. */
  where?: string | undefined;
}

/** A signed request as the accepting Worker received it; the body travels as its hash only. */
export interface SignedRequestInput extends ApiKeyCheckOptions {
  method: string;
  url: string;
  /** At least X-Edgelock-Key-Id, -Timestamp, -Nonce and -Signature (names in any case). */
  headers: Record<string, string>;
  /** Lower-case hex SHA-256 of the body bytes (of "" when there is none). */
  bodySha256: string;
}

/** What the verifier library's middleware needs of a service binding to `AuthService`. */
export interface EdgelockAuthService {
  verify(token: string): Promise<RpcVerifyResult>;
  verifyApiKey(key: string, options?: ApiKeyCheckOptions): Promise<RpcApiKeyResult>;
  verifySignedRequest(request: SignedRequestInput): Promise<RpcApiKeyResult>;
}
