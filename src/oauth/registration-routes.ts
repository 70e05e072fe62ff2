/**
 * @module oauth/registration-routes
 *   POST /oauth/register   RFC 7591 dynamic client registration (JSON), per OAUTH_REGISTRATION:
 *                          off (404), token (Bearer initial access token), open; rate-limited per IP.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app/app-env";
import { readJson } from "../app/json-body";
import { rateLimit } from "../limits/rate-limit-middleware";
import { readBearer } from "../verify/bearer";
import { adminMetadataSchema } from "./clients/client-metadata";
import { clientView } from "./clients/clients";

export const registrationRoutes = new Hono<AppEnv>().post(
  "/register",
  rateLimit({ name: "oauth-register", limit: (config) => config.rateLimits.perIp.signup }),
  async (c) => {
    const { services, ctx } = c.var;
    const input = await readJson(c, adminMetadataSchema);
    const bearer = readBearer(c.req.header("Authorization"));
    const token = bearer.kind === "token" ? bearer.token : null;
    const { client, secret } = await services.oauth.registration.register(input, token, ctx);
    const body = {
      ...clientView(client),
      ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
    };
    return c.json(body, 201);
  },
);
