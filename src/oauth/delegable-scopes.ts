/**
 * @module oauth/delegable-scopes
 * Which granted scopes a token may carry right now: those the client is
 * (still) registered for, and of the permission scopes only those the user
 * (still) holds. Checked at consent, at code redemption and at every refresh,
 * so a role removed or a client narrowed since takes effect at the next token.
 */
import type { Grants } from "../authz/role-store";
import { can } from "../verify/policy";
import type { ClientRecord } from "./clients/client-store";
import { isPermissionScope } from "./scopes";

export function delegableScopes(scopes: string[], client: ClientRecord, userId: string, grants: Grants): string[] {
  const registered = new Set(client.scopes);
  return scopes.filter(
    (scope) => registered.has(scope) && (!isPermissionScope(scope) || can({ sub: userId, ...grants }, scope)),
  );
}
