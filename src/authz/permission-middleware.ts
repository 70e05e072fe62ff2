/**
 * @module authz/permission-middleware
 * `requirePermission(permission)` for the auth Worker's own routes: after
 * authenticate(), the caller's roles are read from D1 (not from the token), so
 * a role removed a second ago is already gone here. The decision is the shared
 * `can()` (src/verify/policy.ts). Refusal: 403 insufficient_scope.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app/app-env";
import { insufficientScope, invalidToken } from "../app/errors/codes";
import { accessNotBeforeSeconds } from "../identity/users";
import { can } from "../verify/policy";

export function requirePermission(permission: string) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const identity = c.var.identity;
    const grants = await c.var.services.roles.authorizationFor(identity.userId);
    // D1, not KV: a disabled account, or a token older than the user's markers,
    // is refused here at once, everywhere (KV's revocation copy can lag a minute).
    const notBefore = grants ? accessNotBeforeSeconds(grants) : 0;
    if (!grants || grants.disabled_at !== null || (identity.kind === "bearer" && identity.claims.iat < notBefore)) {
      throw invalidToken("the credential has been revoked");
    }
    // An API key acts within its scopes AND its owner's current permissions.
    const keyAllows =
      identity.kind !== "api_key" || can({ sub: identity.userId, permissions: identity.scopes }, permission);
    if (!keyAllows || !can({ sub: identity.userId, ...grants }, permission)) {
      throw insufficientScope(`this request needs the ${permission} permission`);
    }
    await next();
  });
}
