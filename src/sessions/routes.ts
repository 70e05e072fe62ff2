/**
 * @module sessions/routes
 * Sessions after login, both kinds (refresh-token families and cookie sessions):
 *   POST   /auth/refresh {refresh_token}   rotate the refresh token
 *   POST   /auth/logout                    end this session (and revoke this access token)
 *   POST   /auth/logout-all {api_keys?}    end every session of the user (and every API key, if asked)
 *   GET    /auth/sessions                  list, with `current` marking the caller's own
 *   DELETE /auth/sessions/{id}             revoke one (someone else's id: 404, like an unknown one)
 * and, for browser sessions:
 *   GET    /auth/session                   the cookie session's user and CSRF token (after a page reload)
 *   POST   /auth/session/token             a short-lived access JWT for calling other APIs (cookie + CSRF)
 */
import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../app/app-env";
import { invalidRequest } from "../app/errors/codes";
import { readJson } from "../app/json-body";
import { authenticate } from "../authn/authenticate-middleware";
import { publicUser } from "../identity/users";
import { startIpRateLimit } from "../limits/rate-limit-middleware";
import { clearSessionCookie } from "./session-response";

const refreshBody = z.object({ refresh_token: z.string().min(1).max(512) });
const logoutBody = z.object({ refresh_token: z.string().min(1).max(512).optional() });
const logoutAllBody = z.object({ api_keys: z.boolean().default(false) });
const noSessionCookie = "this request carries no session cookie";
const sessionUserGone = { description: "the session's user no longer exists", tokenPresent: false };

export const sessionRoutes = new Hono<AppEnv>()
  .post("/refresh", async (c) => {
    // The per-IP limit is checked beside the token reads, and answers wait for it
    // (RefreshSessions.refresh): no answer about a token comes past the limit.
    const gate = startIpRateLimit(c, { name: "refresh", limit: (config) => config.rateLimits.perIp.refresh });
    const { refresh_token } = await readJson(c, refreshBody);
    return c.json(await c.var.services.refreshSessions.refresh(refresh_token, c.var.ctx, { gate }));
  })
  .post("/logout", authenticate(), async (c) => {
    const { refresh_token } = await readJson(c, logoutBody, { allowEmpty: true });
    const { identity, ctx, services } = c.var;
    if (identity.kind === "bearer") {
      await services.refreshSessions.logout(identity.claims, refresh_token, ctx.now);
    } else if (identity.kind === "cookie") {
      await services.browserSessions.end(identity.sessionId, ctx.now);
      clearSessionCookie(c);
    }
    ctx.audit.record("logout", identity.userId, { session_id: identity.sessionId, kind: identity.kind }, ctx.now);
    return c.body(null, 204);
  })
  .post("/logout-all", authenticate(), async (c) => {
    const { api_keys } = await readJson(c, logoutAllBody, { allowEmpty: true });
    const { identity, ctx, services } = c.var;
    // The not-before marker ends refresh families, access tokens and cookie sessions alike.
    await services.accountSessions.endAll(identity.userId, ctx.now);
    // API keys are meant to outlive sessions: they end too only when asked.
    const keys = api_keys ? await services.apiKeys.revokeAll(identity.userId, ctx.now) : 0;
    if (identity.kind === "cookie") clearSessionCookie(c);
    ctx.audit.record("logout_all", identity.userId, api_keys ? { api_keys_revoked: keys } : {}, ctx.now);
    return c.body(null, 204);
  })
  .get("/sessions", authenticate(), async (c) => {
    const { userId, sessionId } = c.var.identity;
    const sessions = await c.var.services.accountSessions.list(userId, c.var.ctx.now);
    return c.json({ sessions: sessions.map((session) => ({ ...session, current: session.id === sessionId })) });
  })
  .delete("/sessions/:id", authenticate(), async (c) => {
    const { identity } = c.var;
    const id = c.req.param("id");
    await c.var.services.accountSessions.revoke(identity.userId, id, c.var.ctx);
    if (id === identity.sessionId && identity.kind === "cookie") clearSessionCookie(c);
    return c.body(null, 204);
  })
  .get("/session", authenticate(), async (c) => {
    const identity = c.var.identity;
    if (identity.kind !== "cookie") throw invalidRequest(noSessionCookie);
    const user = await c.var.services.users.requireActive(identity.userId, sessionUserGone);
    return c.json({ user: publicUser(user), csrf_token: identity.csrfToken });
  })
  .post("/session/token", authenticate(), async (c) => {
    const identity = c.var.identity;
    if (identity.kind !== "cookie") throw invalidRequest(noSessionCookie);
    const user = await c.var.services.users.requireActive(identity.userId, sessionUserGone);
    // The token's `sid` is the cookie session: ending the session revokes it too.
    const session = { id: identity.sessionId, amr: identity.amr, authTime: identity.authTime };
    return c.json(await c.var.services.sessionTokens.accessToken(user, session, Date.now()));
  });
