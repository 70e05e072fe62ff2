/**
 * @module oauth/admin-routes
 * /admin/clients: OAuth clients, behind permissions (checked against D1) and audited.
 *   POST   /admin/clients                     clients:write  metadata → client + secret (shown once)
 *   GET    /admin/clients?limit=&cursor=      clients:read
 *   GET    /admin/clients/{id}                clients:read
 *   PATCH  /admin/clients/{id}                clients:write  changes the given metadata
 *   POST   /admin/clients/{id}/secret         clients:write  a new secret; the old one stops working
 *   DELETE /admin/clients/{id}                clients:write  with its consents and refresh tokens
 *   POST   /admin/clients/registration-tokens clients:write  an initial access token for one registration
 *                                                            (OAUTH_REGISTRATION=token; 409 otherwise)
 */
import { Hono } from "hono";
import type { AppEnv } from "../app/app-env";
import { AuthError } from "../app/errors/codes";
import { readJson } from "../app/json-body";
import { pageSize } from "../app/page-size";
import { requirePermission } from "../authz/permission-middleware";
import { adminMetadataSchema } from "./clients/client-metadata";
import { clientView } from "./clients/clients";

/** Mounted inside the admin API, whose authenticate() runs first. */
export const clientAdminRoutes = new Hono<AppEnv>()
  .post("/registration-tokens", requirePermission("clients:write"), async (c) => {
    const { services, identity, ctx } = c.var;
    const minted = await services.oauth.registration.mintInitialAccessToken(identity.userId, ctx);
    if (!minted) throw new AuthError("conflict", "OAUTH_REGISTRATION is not 'token': no initial access tokens to mint");
    return c.json({ initial_access_token: minted.token, expires_at: new Date(minted.expiresAt).toISOString() }, 201);
  })
  .post("/", requirePermission("clients:write"), async (c) => {
    const input = await readJson(c, adminMetadataSchema);
    const { client, secret } = await c.var.services.oauth.clients.register(
      input,
      "admin",
      c.var.identity.userId,
      c.var.ctx,
    );
    return c.json(
      { ...clientView(client), ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}) },
      201,
    );
  })
  .get("/", requirePermission("clients:read"), async (c) => {
    const limit = pageSize(c.req.query("limit"));
    const clients = await c.var.services.oauth.clients.list(limit + 1, c.req.query("cursor") ?? null);
    const page = clients.slice(0, limit);
    return c.json({
      clients: page.map(clientView),
      next_cursor: clients.length > limit ? (page.at(-1)?.id ?? null) : null,
    });
  })
  .get("/:id", requirePermission("clients:read"), async (c) => {
    return c.json(clientView(await c.var.services.oauth.clients.require(c.req.param("id"))));
  })
  .patch("/:id", requirePermission("clients:write"), async (c) => {
    const input = await readJson(c, adminMetadataSchema);
    const { identity, ctx, services } = c.var;
    return c.json(clientView(await services.oauth.clients.update(c.req.param("id"), input, identity.userId, ctx)));
  })
  .post("/:id/secret", requirePermission("clients:write"), async (c) => {
    const { identity, ctx, services } = c.var;
    const secret = await services.oauth.clients.rotateSecret(c.req.param("id"), identity.userId, ctx);
    return c.json({ client_id: c.req.param("id"), client_secret: secret, client_secret_expires_at: 0 });
  })
  .delete("/:id", requirePermission("clients:write"), async (c) => {
    await c.var.services.oauth.clients.delete(c.req.param("id"), c.var.identity.userId, c.var.ctx);
    return c.body(null, 204);
  });
