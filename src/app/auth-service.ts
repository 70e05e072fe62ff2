/**
 * @module rpc/auth-service
 * `AuthService`: the auth Worker's RPC entrypoint. A Worker with a service
 * binding to it (`entrypoint = "AuthService"`) verifies a token with no network
 * hop: same checks as the HTTP API (signature, claims, revocation).
 * Answers a result object rather than throwing, because error classes do not
 * survive RPC. Internals stay in #private fields (not callable over RPC).
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { verifierFor } from "../tokens/access-tokens";
import { VerifyError, type VerifyErrorCode } from "../verify/errors";
import { type AccessTokenClaims, checkRevocation } from "../verify/verifier";
import { buildContainer } from "./container";

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
    const { keys, accessTokenSettings, revocation } = await buildContainer(this.env);
    const now = Date.now();
    try {
      const claims = await verifierFor(keys, accessTokenSettings).verify(token, { now });
      await checkRevocation(revocation, claims, now);
      return { ok: true, claims };
    } catch (error) {
      if (!(error instanceof VerifyError)) throw error;
      // `code` tells expired from revoked from wrong audience; `error` is what to answer (RFC 6750).
      return { ok: false, error: "invalid_token", code: error.code, error_description: error.message };
    }
  }
}
