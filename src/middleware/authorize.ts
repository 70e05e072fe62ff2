/**
 * @module middleware/authorize
 * `requirePermission(permission)` for the auth Worker's own routes: after
 * authenticate(), the caller's roles are read from D1 (not from the token), so
 * a role removed a second ago is already gone here. The decision is the shared
 * `can()` (src/verify/policy.ts). Refusal: 403 insufficient_scope.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { AuthError } from "../errors";
import { can } from "../verify/policy";

export function requirePermission(permission: string) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const { userId } = c.var.identity;
    const grants = await c.var.services.roles.grantsFor(userId);
    if (!can({ sub: userId, ...grants }, permission)) {
      throw new AuthError(403, "insufficient_scope", `this request needs the ${permission} permission`);
    }
    await next();
  });
}
