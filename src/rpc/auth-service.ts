/**
 * @module rpc/auth-service
 * `AuthService`: the auth Worker's RPC entrypoint. A Worker with a service
 * binding to it (`entrypoint = "AuthService"`) verifies a token with no network
 * hop: same checks as the HTTP API (signature, claims, revocation).
 * Answers a result object rather than throwing, because error classes do not
 * survive RPC. Internals stay in #private fields (not callable over RPC).
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { buildContainer } from "../container";
import { AuthError } from "../errors";
import { verifyAccessToken } from "../services/access-tokens";
import type { AccessTokenClaims } from "../verify/verifier";

export type RpcVerifyResult =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; error: string; error_description: string };

export class AuthService extends WorkerEntrypoint<Env> {
  async verify(token: string): Promise<RpcVerifyResult> {
    if (typeof token !== "string" || token.length === 0 || token.length > 8192) {
      return { ok: false, error: "invalid_token", error_description: "the access token is invalid" };
    }
    const { keys, accessTokenSettings, revocation } = await buildContainer(this.env);
    try {
      const claims = await verifyAccessToken(token, keys, accessTokenSettings, revocation, Date.now());
      return { ok: true, claims };
    } catch (error) {
      if (error instanceof AuthError) return { ok: false, error: error.code, error_description: error.description };
      throw error;
    }
  }
}
