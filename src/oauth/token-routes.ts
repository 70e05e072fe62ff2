/**
 * @module oauth/token-routes
 * The client-authenticated endpoints, all form-encoded, all answering errors
 * as RFC 6749 §5.2 says (JSON, `Cache-Control: no-store`, `invalid_client`
 * as 401 with a `Basic` challenge), all behind the per-IP limit:
 *   POST /oauth/token                 RFC 6749 §3.2, the grants in the registry
 *   POST /oauth/device_authorization  RFC 8628 §3.1 (a public client names itself with client_id alone)
 *   POST /oauth/revoke                RFC 7009
 *   POST /oauth/introspect            RFC 7662
 */
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../app/app-env";
import { AuthError } from "../app/errors/codes";
import { renderTokenError } from "../app/errors/oauth";
import { type OAuthParams, readForm } from "../app/form-body";
import { unwrap } from "../lib/settled";
import { startIpRateLimit } from "../limits/rate-limit-middleware";
import { clientCredentials } from "./client-credentials";

type Handler = (c: Context<AppEnv>, params: OAuthParams) => Promise<Response>;

/** Rate-limited, form-parsed, and every failure rendered the token endpoint's way. */
function tokenEndpointStyle(name: string, handler: Handler) {
  return async (c: Context<AppEnv>) => {
    try {
      unwrap(await startIpRateLimit(c, { name, limit: (config) => config.rateLimits.perIp.oauthToken }));
      const params = await readForm(c);
      c.header("Cache-Control", "no-store");
      c.header("Pragma", "no-cache");
      return await handler(c, params);
    } catch (error) {
      const rendered = renderTokenError(error, c.var.requestId);
      for (const [name, value] of Object.entries(rendered.headers)) c.header(name, value);
      return c.json(rendered.body, rendered.status as ContentfulStatusCode);
    }
  };
}

async function authenticatedClient(c: Context<AppEnv>, params: OAuthParams) {
  const credentials = clientCredentials(c.req.header("Authorization"), params);
  return c.var.services.oauth.clientAuthentication.authenticate(credentials, c.var.ctx);
}

export const tokenRoutes = new Hono<AppEnv>()
  .post(
    "/token",
    tokenEndpointStyle("oauth-token", async (c, params) => {
      const { services, ctx } = c.var;
      return c.json(await services.oauth.tokenEndpoint.exchange(c.req.header("Authorization"), params, ctx));
    }),
  )
  .post(
    "/device_authorization",
    tokenEndpointStyle("oauth-device-authorization", async (c, params) => {
      const client = await authenticatedClient(c, params);
      return c.json(await c.var.services.oauth.deviceAuthorizations.begin(client, params, c.var.ctx.now));
    }),
  )
  .post(
    "/revoke",
    tokenEndpointStyle("oauth-revoke", async (c, params) => {
      const token = params.require("token");
      const client = await authenticatedClient(c, params);
      await c.var.services.oauth.tokenRevocation.revoke(token, client, c.var.ctx.now);
      // §2.2: 200 whether or not the token existed or was the client's.
      return c.body(null, 200);
    }),
  )
  .post(
    "/introspect",
    tokenEndpointStyle("oauth-introspect", async (c, params) => {
      const token = params.require("token");
      const client = await authenticatedClient(c, params);
      // RFC 7662 §2.1 wants the caller authorized: a public client proves nothing.
      if (client.authMethod === "none")
        throw new AuthError("invalid_client", "introspection needs a confidential client");
      return c.json(await c.var.services.oauth.tokenIntrospection.introspect(token, client, c.var.ctx.now));
    }),
  );
