/**
 * @module oauth/discovery-routes
 *   GET /.well-known/openid-configuration      OpenID Connect Discovery 1.0
 *   GET /.well-known/oauth-authorization-server RFC 8414
 * The same document at both; cacheable for 5 minutes like the JWKS.
 */
import { type Context, Hono } from "hono";
import type { AppEnv } from "../app/app-env";

const DISCOVERY_CACHE_CONTROL = "public, max-age=300";

async function serveDiscovery(c: Context<AppEnv>) {
  c.header("Cache-Control", DISCOVERY_CACHE_CONTROL);
  return c.json(await c.var.services.oauth.discovery());
}

export const discoveryRoutes = new Hono<AppEnv>()
  .get("/openid-configuration", serveDiscovery)
  .get("/oauth-authorization-server", serveDiscovery);
