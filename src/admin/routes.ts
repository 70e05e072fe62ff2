/**
 * @module admin/routes
 * /admin/*: the admin API, behind permissions (checked against D1, not the token):
 *   GET    /admin/users?q=&limit=&cursor=          users:read
 *   GET    /admin/users/{id}                       users:read
 *   POST   /admin/users/{id}/disable | /enable     users:write  (disabling ends every session)
 *   PUT    /admin/users/{id}/roles/{role}          users:write
 *   DELETE /admin/users/{id}/roles/{role}          users:write
 *   GET    /admin/users/{id}/sessions              users:read
 *   DELETE /admin/users/{id}/sessions/{sid}        users:write
 *   POST   /admin/users/{id}/mfa/reset             users:write  (a lost authenticator; the user is mailed)
 *   GET    /admin/audit?user_id=&limit=&before=    audit:read
 *   /admin/clients/*                              clients:read / clients:write (oauth/admin-routes.ts)
 */
import { Hono } from "hono";
import type { AppEnv } from "../app/app-env";
import { invalidRequest } from "../app/errors/codes";
import { pageSize } from "../app/page-size";
import { authenticate, type Identity } from "../authn/authenticate-middleware";
import { requirePermission } from "../authz/permission-middleware";
import { publicUser } from "../identity/users";
import { clientAdminRoutes } from "../oauth/admin-routes";
import type { RoleActor } from "./service";

export const adminRoutes = new Hono<AppEnv>()
  .use("*", authenticate({ apiKey: true }))
  .get("/users", requirePermission("users:read"), async (c) => {
    const limit = pageSize(c.req.query("limit"));
    const users = await c.var.services.users.search(c.req.query("q") ?? "", c.req.query("cursor") ?? null, limit + 1);
    const page = users.slice(0, limit);
    return c.json({
      users: page.map((u) => ({ ...publicUser(u), disabled: u.disabled_at !== null })),
      next_cursor: users.length > limit ? (page.at(-1)?.id ?? null) : null,
    });
  })
  .get("/users/:id", requirePermission("users:read"), async (c) => {
    const user = await c.var.services.users.requireExisting(c.req.param("id"));
    const grants = await c.var.services.roles.grantsFor(user.id);
    return c.json({ user: { ...publicUser(user), disabled: user.disabled_at !== null, roles: grants.roles } });
  })
  .post("/users/:id/disable", requirePermission("users:write"), async (c) => {
    await c.var.services.admin.setDisabled(c.var.identity.userId, c.req.param("id"), true, c.var.ctx);
    return c.body(null, 204);
  })
  .post("/users/:id/enable", requirePermission("users:write"), async (c) => {
    await c.var.services.admin.setDisabled(c.var.identity.userId, c.req.param("id"), false, c.var.ctx);
    return c.body(null, 204);
  })
  .put("/users/:id/roles/:role", requirePermission("users:write"), async (c) => {
    const { id, role } = c.req.param();
    await c.var.services.admin.changeRole(roleActor(c.var.identity), id, role, "assign", c.var.ctx);
    return c.body(null, 204);
  })
  .delete("/users/:id/roles/:role", requirePermission("users:write"), async (c) => {
    const { id, role } = c.req.param();
    await c.var.services.admin.changeRole(roleActor(c.var.identity), id, role, "remove", c.var.ctx);
    return c.body(null, 204);
  })
  .get("/users/:id/sessions", requirePermission("users:read"), async (c) => {
    const user = await c.var.services.users.requireExisting(c.req.param("id"));
    return c.json({ sessions: await c.var.services.accountSessions.list(user.id, c.var.ctx.now) });
  })
  .delete("/users/:id/sessions/:sid", requirePermission("users:write"), async (c) => {
    const { id, sid } = c.req.param();
    await c.var.services.accountSessions.revoke(id, sid, c.var.ctx, c.var.identity.userId);
    return c.body(null, 204);
  })
  .post("/users/:id/mfa/reset", requirePermission("users:write"), async (c) => {
    await c.var.services.mfa.settings.resetByAdmin(c.var.identity.userId, c.req.param("id"), c.var.ctx);
    return c.body(null, 204);
  })
  .get("/audit", requirePermission("audit:read"), async (c) => {
    const before = c.req.query("before");
    if (before !== undefined && !/^\d+$/.test(before)) throw invalidRequest("before: an audit entry id");
    const entries = await c.var.services.auditTrail.list({
      userId: c.req.query("user_id") ?? null,
      before: before === undefined ? null : Number(before),
      limit: pageSize(c.req.query("limit")),
    });
    return c.json({ entries });
  })
  .route("/clients", clientAdminRoutes);

/** The caller as AdminService.changeRole sees it: an API key brings its scopes. */
function roleActor(identity: Identity): RoleActor {
  return identity.kind === "api_key"
    ? { userId: identity.userId, keyScopes: identity.scopes }
    : { userId: identity.userId };
}
