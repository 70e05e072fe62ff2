/**
 * @module middleware/require-auth
 * `requireAuth()`: accepts `Authorization: Bearer <access token>` only. Tokens in
 * the query string are refused outright (they end up in logs, history and
 * Referer headers; RFC 6750 §5.3 and RFC 9700 say not to use them).
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { invalidRequest, invalidToken } from "../errors";
import { verifyAccessToken } from "../services/access-tokens";

export function requireAuth() {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.query("access_token") !== undefined) {
      const error = invalidRequest("access tokens are accepted only in the Authorization header");
      error.headers["WWW-Authenticate"] = 'Bearer realm="edgelock", error="invalid_request"';
      throw error;
    }
    const header = c.req.header("Authorization") ?? "";
    // No Bearer credentials at all (no header, or another scheme): RFC 6750 §3.1's bare challenge.
    if (!/^Bearer(\s|$)/i.test(header)) {
      throw invalidToken("a bearer access token is required", { tokenPresent: false });
    }
    const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
    if (!match?.[1]) throw invalidToken("the Authorization header must be 'Bearer <token>'");
    const { keys, accessTokenSettings, revocation } = c.var.services;
    const claims = await verifyAccessToken(match[1], keys, accessTokenSettings, revocation, Date.now());
    c.set("auth", claims);
    await next();
  });
}
