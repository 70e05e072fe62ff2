/**
 * @module routes/sessions
 * A user's view of their sessions, both kinds (cookie sessions and refresh-token
 * families):
 *   GET    /auth/sessions          list, with `current` marking the caller's own
 *   DELETE /auth/sessions/{id}     revoke one (someone else's id: 404, like an unknown one)
 * and, for browser sessions:
 *   GET    /auth/session           the cookie session's user and CSRF token (after a page reload)
 *   POST   /auth/session/token     a short-lived access JWT for calling other APIs (cookie + CSRF)
 */
import { Hono } from "hono";
import type { AppEnv } from "../app/app-env";
import { AuthError, invalidRequest, invalidToken } from "../app/errors/codes";
import { authenticate } from "../authn/authenticate-middleware";
import { publicUser } from "../identity/users";
import { clearSessionCookie } from "./session-response";

export const sessionRoutes = new Hono<AppEnv>()
  .get("/sessions", authenticate(), async (c) => {
    const { userId, sessionId } = c.var.identity;
    const rows = await c.var.services.sessionStore.listLive(userId, Date.now());
    const sessions = rows.map((row) => ({
      id: row.id,
      kind: row.kind,
      created_at: new Date(row.created_at).toISOString(),
      last_seen_at: new Date(row.last_seen_at).toISOString(),
      expires_at: new Date(row.expires_at).toISOString(),
      ip: row.ip,
      user_agent: row.user_agent,
      current: row.id === sessionId,
    }));
    return c.json({ sessions });
  })
  .delete("/sessions/:id", authenticate(), async (c) => {
    const { userId, sessionId } = c.var.identity;
    const id = c.req.param("id");
    const now = Date.now();
    const row = await c.var.services.sessionStore.findOwned(id, userId);
    // Not yours and not there look the same: ids of other users' sessions reveal nothing.
    if (!row || row.revoked_at !== null) throw new AuthError(404, "not_found", "no such session");
    if (row.kind === "cookie") await c.var.services.cookieSessions.end(row.id, now);
    else await c.var.services.sessions.revokeFamily(row.id, userId, now);
    if (row.id === sessionId && c.var.identity.kind === "cookie") clearSessionCookie(c);
    c.var.audit.record("session_revoked", userId, { session_id: row.id, kind: row.kind }, now);
    return c.body(null, 204);
  })
  .get("/session", authenticate(), async (c) => {
    const identity = c.var.identity;
    if (identity.kind !== "cookie") throw invalidRequest("this request carries no session cookie");
    const user = await c.var.services.users.findById(identity.userId);
    if (!user) throw invalidToken("the session's user no longer exists", { tokenPresent: false });
    return c.json({ user: publicUser(user), csrf_token: identity.csrfToken });
  })
  .post("/session/token", authenticate(), async (c) => {
    const identity = c.var.identity;
    if (identity.kind !== "cookie") throw invalidRequest("this request carries no session cookie");
    const user = await c.var.services.users.findById(identity.userId);
    if (!user) throw invalidToken("the session's user no longer exists", { tokenPresent: false });
    // The token's `sid` is the cookie session: ending the session revokes it too.
    return c.json(await c.var.services.sessions.accessTokenFor(user, identity.sessionId, Date.now()));
  });
