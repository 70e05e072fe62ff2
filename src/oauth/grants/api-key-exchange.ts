/**
 * @module oauth/grants/api-key-exchange
 * RFC 8693 token exchange of an edgelock API key for a short-lived access
 * token, so a program holding a key can call APIs that verify JWTs against the
 * JWKS alone. The subject token is the key (`subject_token_type`
 * `urn:edgelock:params:oauth:token-type:api-key`). The token: `sub` the key's
 * owner, `client_id` and `sid` the key's public prefix (`elk_<id>`), `scope`
 * and `permissions` the key's scopes its owner still holds, no roles, and no
 * later `exp` than the key's own. Revoking the key deny-lists `sid`.
 *
 * No client authentication is needed (RFC 8693 §2.1 leaves it to the server):
 * the key is the credential. A client that does authenticate must have
 * registered this grant type. Its `client_id` never reaches edgelock's own
 * account endpoints, which accept first-party tokens only.
 */

import type { KeyClaims } from "../../api-keys/key-claims";
import { keyPrincipalId } from "../../api-keys/key-claims";
import type { ApiKeyService } from "../../api-keys/service";
import { AuthError, invalidRequest } from "../../app/errors/codes";
import type { UserService } from "../../identity/users";
import { accessNotBeforeSeconds } from "../../identity/users";
import type { TokenIssuer } from "../../tokens/issuer";
import { formatScope, parseScope } from "../scopes";
import type { ClientlessGrant } from "./grant";

export const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
export const API_KEY_TOKEN_TYPE = "urn:edgelock:params:oauth:token-type:api-key";
export const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";

export interface ApiKeyExchangeOptions {
  apiKeys: ApiKeyService;
  keyClaims: KeyClaims;
  users: UserService;
  issuer: TokenIssuer;
}

export function apiKeyExchangeGrant(options: ApiKeyExchangeOptions): ClientlessGrant {
  return {
    grantType: TOKEN_EXCHANGE,
    clientless: true,
    async handle(params, _client, ctx) {
      const subjectToken = params.require("subject_token");
      if (params.require("subject_token_type") !== API_KEY_TOKEN_TYPE) {
        throw invalidRequest(`subject_token_type: only ${API_KEY_TOKEN_TYPE} can be exchanged here`);
      }
      const requested = params.get("requested_token_type");
      if (requested !== undefined && requested !== ACCESS_TOKEN_TYPE) {
        throw invalidRequest(`requested_token_type: only ${ACCESS_TOKEN_TYPE} is issued`);
      }
      if (params.get("actor_token") !== undefined) throw invalidRequest("actor_token: delegation is not supported");
      const { audience } = options.issuer.defaults;
      const targets = [...params.resources, ...(params.get("audience") ? [params.get("audience") as string] : [])];
      if (targets.some((target) => target !== audience)) {
        throw new AuthError("invalid_target", `a key's tokens are for ${audience} only`);
      }
      const check = await options.apiKeys.check(subjectToken, ctx, null);
      if (!check.ok) throw new AuthError("invalid_grant", "the API key is invalid, expired or revoked");
      const held = options.keyClaims.effectiveScopes(check.key);
      const asked = parseScope(params.get("scope"));
      if (asked.some((scope) => !held.includes(scope))) {
        throw new AuthError("invalid_scope", "the key does not carry every requested scope (or its owner lost it)");
      }
      const scopes = asked.length > 0 ? asked : held;
      if (scopes.length === 0)
        throw new AuthError("invalid_grant", "the key's owner no longer holds any of its scopes");
      const owner = await options.users.requireActive(check.key.userId);
      const principal = keyPrincipalId(check.key.keyId);
      const defaultTtl = options.issuer.defaults.ttlSeconds;
      const keyLeft = check.key.expiresAt === null ? defaultTtl : Math.floor((check.key.expiresAt - ctx.now) / 1000);
      const scope = formatScope(scopes);
      const access = await options.issuer.issueAccessToken(
        {
          principal: { type: "user", id: owner.id },
          clientId: principal,
          sessionId: principal,
          scope,
          grants: { roles: [], permissions: scopes },
          notBeforeSeconds: accessNotBeforeSeconds(owner),
          ttlSeconds: Math.max(1, Math.min(defaultTtl, keyLeft)),
        },
        ctx.now,
      );
      return {
        access_token: access.token,
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: "Bearer",
        expires_in: access.expiresIn,
        scope,
      };
    },
  };
}
