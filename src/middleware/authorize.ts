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
    const identity = c.var.identity;
    const grants = await c.var.services.roles.grantsFor(identity.userId);
    // An API key acts within its scopes AND its owner's current permissions.
    const keyAllows =
      identity.kind !== "api_key" || can({ sub: identity.userId, permissions: identity.scopes }, permission);
    if (!keyAllows || !can({ sub: identity.userId, ...grants }, permission)) {
      throw new AuthError(403, "insufficient_scope", `this request needs the ${permission} permission`);
    }
    await next();
  });
}
