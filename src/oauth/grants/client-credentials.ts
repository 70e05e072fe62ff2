/**
 * @module oauth/grants/client-credentials
 * `client_credentials` (RFC 6749 §4.4): a confidential client acting for
 * itself. The token's `sub` is the client id; its scope is what the client
 * asked for within what it is registered for (all of that when it asks for
 * nothing); no refresh token (§4.4.3) and no OpenID Connect scopes, since
 * no user is involved.
 */
import { AuthError } from "../../app/errors/codes";
import type { TokenIssuer } from "../../tokens/issuer";
import { audienceClaim, requestedAudiences } from "../resources";
import { formatScope, isOpenIdScope, parseScope, withinScopes } from "../scopes";
import type { Grant } from "./grant";

export function clientCredentialsGrant(issuer: TokenIssuer): Grant {
  return {
    grantType: "client_credentials",
    async handle(params, client, ctx) {
      const asked = parseScope(params.get("scope"));
      if (asked.some(isOpenIdScope)) {
        throw new AuthError("invalid_scope", "OpenID Connect scopes need a user; client_credentials has none");
      }
      if (!withinScopes(asked, client.scopes)) {
        throw new AuthError("invalid_scope", "the client is not registered for every requested scope");
      }
      const scopes = asked.length > 0 ? asked : client.scopes.filter((scope) => !isOpenIdScope(scope));
      const audiences = requestedAudiences(params.resources, client.audiences);
      const scope = formatScope(scopes);
      const access = await issuer.issueAccessToken(
        {
          principal: { type: "client", id: client.id },
          clientId: client.id,
          audience: audienceClaim(audiences),
          scope,
        },
        ctx.now,
      );
      return {
        access_token: access.token,
        token_type: "Bearer",
        expires_in: access.expiresIn,
        ...(scope ? { scope } : {}),
      };
    },
  };
}
