/**
 * @module oauth/userinfo-routes
 *   GET|POST /oauth/userinfo   OIDC Core §5.3; the token in the Authorization
 *   header, or (POST) as `access_token` in a form body (RFC 6750 §2.2), never
 *   in the query (§5.3 of RFC 6750 forbids it). Both at once is invalid_request.
 */
import { type Context, Hono } from "hono";
import type { AppEnv } from "../app/app-env";
import { AuthError, invalidRequest, invalidToken } from "../app/errors/codes";
import { readForm } from "../app/form-body";
import { readBearer } from "../verify/bearer";

async function presentedToken(c: Context<AppEnv>): Promise<string> {
  if (c.req.query("access_token") !== undefined) {
    throw new AuthError("token_in_query", "access tokens are accepted only in the Authorization header or a form body");
  }
  const header = readBearer(c.req.header("Authorization"));
  const hasForm =
    c.req.method === "POST" && /^application\/x-www-form-urlencoded/i.test(c.req.header("Content-Type") ?? "");
  const bodyToken = hasForm ? (await readForm(c)).get("access_token") : undefined;
  if (header.kind === "token" && bodyToken !== undefined) throw invalidRequest("send the access token once, not twice");
  if (header.kind === "token") return header.token;
  if (bodyToken !== undefined) return bodyToken;
  if (header.kind === "malformed") throw invalidToken("the Authorization header must be 'Bearer <token>'");
  throw invalidToken("a bearer access token is required", { tokenPresent: false });
}

async function userinfo(c: Context<AppEnv>) {
  const token = await presentedToken(c);
  return c.json(await c.var.services.oauth.userInfo.claims(token, c.var.ctx.now));
}

export const userinfoRoutes = new Hono<AppEnv>().get("/userinfo", userinfo).post("/userinfo", userinfo);
