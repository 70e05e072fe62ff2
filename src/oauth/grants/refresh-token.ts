/**
 * @module oauth/grants/refresh-token
 * `refresh_token` (RFC 6749 §6, OAuth 2.1 §4.3): the same rotation with reuse
 * detection and grace window as first-party refresh, bound to the client the
 * family was issued to. `scope` and `resource` may only narrow what was
 * granted, for this access token; the family keeps its grant. Each token gets
 * only what is still delegable: scopes the client is still registered for,
 * and permissions the user still holds. Every refresh rotates.
 */
import { AuthError } from "../../app/errors/codes";
import type { Grants } from "../../authz/role-store";
import type { RefreshSessions } from "../../sessions/refresh-sessions";
import type { OAuthBinding } from "../../sessions/session-store";
import { delegableScopes } from "../delegable-scopes";
import type { IdTokens } from "../id-tokens";
import { formatScope, parseScope, withinScopes } from "../scopes";
import type { Grant } from "./grant";

export function refreshTokenGrant(sessions: RefreshSessions, idTokens: IdTokens): Grant {
  return {
    grantType: "refresh_token",
    async handle(params, client, ctx) {
      const refreshToken = params.require("refresh_token");
      const asked = parseScope(params.get("scope"));
      const resources = params.resources;
      const narrow = (binding: OAuthBinding, holder: { userId: string; grants: Grants }): OAuthBinding => {
        // What is still grantable: within the client's registration, and permissions the user still holds.
        const granted = delegableScopes(parseScope(binding.scope), client, holder.userId, holder.grants);
        if (!withinScopes(asked, granted)) throw new AuthError("invalid_scope", "scope: wider than was granted");
        if (!withinScopes(resources, binding.audiences)) {
          throw new AuthError("invalid_target", "resource: not one the grant was for");
        }
        return {
          ...binding,
          scope: formatScope(asked.length > 0 ? asked : granted),
          audiences: resources.length > 0 ? [...new Set(resources)] : binding.audiences,
        };
      };
      const refreshed = await sessions.rotate(refreshToken, ctx, { client: { id: client.id, narrow } });
      const scope = refreshed.session.oauth?.scope ?? "";
      const idToken = parseScope(scope).includes("openid")
        ? await idTokens.issue({ client, user: refreshed.user, session: refreshed.session, scope, now: ctx.now })
        : undefined;
      return {
        ...refreshed.access,
        refresh_token: refreshed.refreshToken,
        ...(scope ? { scope } : {}),
        ...(idToken ? { id_token: idToken } : {}),
      };
    },
  };
}
