/**
 * @module tokens/routes
 * GET /.well-known/jwks.json: the public halves of every signing key.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app/app-env";

// Verifiers may cache for 5 minutes: a new key must be published at least that
// long before it starts signing (docs/configuration.md, "Rotating keys").
const JWKS_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=60";

export const wellKnownRoutes = new Hono<AppEnv>().get("/jwks.json", (c) => {
  c.header("Cache-Control", JWKS_CACHE_CONTROL);
  return c.json(c.var.services.publicJwks);
});
