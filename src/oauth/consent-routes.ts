/**
 * @module oauth/consent-routes
 * The user's own consents, beside their sessions:
 *   GET    /auth/consents               the clients they allowed, and what
 *   DELETE /auth/consents/{client_id}   withdraw: the consent, the client's refresh tokens for them, and
 *                                       the access tokens those issued
 */
import { Hono } from "hono";
import type { AppEnv } from "../app/app-env";
import { authenticate } from "../authn/authenticate-middleware";

export const consentRoutes = new Hono<AppEnv>()
  .get("/consents", authenticate(), async (c) => {
    return c.json({ consents: await c.var.services.oauth.consents.list(c.var.identity.userId) });
  })
  .delete("/consents/:clientId", authenticate(), async (c) => {
    await c.var.services.oauth.consents.revoke(c.var.identity.userId, c.req.param("clientId"), c.var.ctx);
    return c.body(null, 204);
  });
