/**
 * @module app/auth-service
 * `AuthService`: the auth Worker's RPC entrypoint. A Worker with a service
 * binding to it (`entrypoint = "AuthService"`) verifies a token with no network
 * hop: same checks as the HTTP API (signature, claims, revocation).
 * Answers a result object rather than throwing, because error classes do not
 * survive RPC. It has no state of its own to hide: the composition root
 * (container) builds what it calls.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { VerifyErrorCode } from "../verify/errors";
import type { AccessTokenClaims } from "../verify/verifier";
import { containerFor } from "./container";

export type RpcVerifyResult =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; error: "invalid_token"; code: VerifyErrorCode; error_description: string };

export class AuthService extends WorkerEntrypoint<Env> {
  async verify(token: string): Promise<RpcVerifyResult> {
    if (typeof token !== "string" || token.length === 0 || token.length > 8192) {
      return {
        ok: false,
        error: "invalid_token",
        code: "invalid_token",
        error_description: "the access token is invalid",
      };
    }
    const check = await containerFor(this.env).accessTokens.check(token, Date.now());
    if (check.ok) return { ok: true, claims: check.claims };
    // `code` tells expired from revoked from wrong audience; `error` is what to answer (RFC 6750).
    return { ok: false, error: "invalid_token", code: check.code, error_description: check.message };
  }
}
