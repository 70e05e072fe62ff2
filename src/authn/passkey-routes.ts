/**
 * @module authn/passkey-routes
 *   POST   /auth/passkeys/register/options {password?, code? | recovery_code?}   creation options (signed in, fresh)
 *   POST   /auth/passkeys/register/verify {response, name?, password?, code?}   201 the passkey
 *   POST   /auth/passkeys/login/options                                        {challenge_id, options}
 *   POST   /auth/passkeys/login/verify {challenge_id, response, mode?, remember_me?}   answers as POST /auth/login
 *   GET    /auth/passkeys                                                      the caller's passkeys
 *   PATCH  /auth/passkeys/{id} {name}                                          rename
 *   DELETE /auth/passkeys/{id}                                                 204; not the last way to sign in
 * Registering needs a fresh authentication (as minting an API key does: a
 * login within 5 minutes or the password, and a current code with two-step
 * login on), so a stolen session cannot plant a passkey. The options and
 * verify endpoints are limited per IP; logging in shares the login's limit.
 */
import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../app/app-env";
import { readJson } from "../app/json-body";
import { rateLimit, startIpRateLimit } from "../limits/rate-limit-middleware";
import { startSession } from "../sessions/session-response";
import { authenticate } from "./authenticate-middleware";
import { loginResponse } from "./login-response";
import { secondFactorFields } from "./second-factor-body";
import { freshOwner } from "./step-up-http";

const b64u = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/, "must be base64url");

const clientExtensionResults = z.looseObject({}).default({});

const registrationResponse = z.object({
  id: b64u(1400),
  rawId: b64u(1400),
  type: z.literal("public-key"),
  response: z.looseObject({
    clientDataJSON: b64u(4096),
    attestationObject: b64u(8192),
    transports: z.array(z.string().max(32)).max(10).optional(),
  }),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
  clientExtensionResults,
});

const authenticationResponse = z.object({
  id: b64u(1400),
  rawId: b64u(1400),
  type: z.literal("public-key"),
  response: z.looseObject({
    clientDataJSON: b64u(4096),
    authenticatorData: b64u(4096),
    signature: b64u(1024),
    userHandle: b64u(128).optional(),
  }),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
  clientExtensionResults,
});

const stepUpFields = { password: z.string().max(4096).optional(), ...secondFactorFields };
const optionsBody = z.object(stepUpFields);
const registerBody = z.object({
  response: registrationResponse,
  name: z.string().trim().min(1).max(100).optional(),
  ...stepUpFields,
});
const loginBody = z.object({
  challenge_id: b64u(128),
  response: authenticationResponse,
  mode: z.enum(["token", "cookie"]).default("token"),
  remember_me: z.boolean().default(false),
});
const renameBody = z.object({ name: z.string().trim().min(1).max(100) });

const perIp = rateLimit({ name: "passkey", limit: (config) => config.rateLimits.perIp.login });

export const passkeyRoutes = new Hono<AppEnv>()
  .post("/login/options", perIp, async (c) => {
    const { services, ctx } = c.var;
    return c.json(await services.passwordless.passkeys.loginOptions(ctx));
  })
  .post("/login/verify", async (c) => {
    const gate = startIpRateLimit(c, { name: "login", limit: (config) => config.rateLimits.perIp.login });
    const body = await readJson(c, loginBody);
    const { services, ctx } = c.var;
    const outcome = await services.passwordless.passkeys.login(body.challenge_id, body.response, gate, ctx, (auth) =>
      startSession(c, auth, body.mode, { rememberMe: body.remember_me, now: ctx.now }),
    );
    // A user-verified passkey is multi-factor, so no second step is asked; a policy that asks gets the usual answer.
    return loginResponse(c, outcome, { mode: body.mode, rememberMe: body.remember_me });
  })
  .use("*", authenticate())
  .post("/register/options", perIp, async (c) => {
    const body = await readJson(c, optionsBody, { allowEmpty: true });
    const owner = await freshOwner(c, body);
    return c.json(await c.var.services.passwordless.passkeys.registrationOptions(owner, c.var.ctx));
  })
  .post("/register/verify", perIp, async (c) => {
    const body = await readJson(c, registerBody);
    const owner = await freshOwner(c, body);
    const passkey = await c.var.services.passwordless.passkeys.register(owner, body.response, body.name, c.var.ctx);
    return c.json(passkey, 201);
  })
  .get("/", async (c) => c.json({ passkeys: await c.var.services.passwordless.passkeys.list(c.var.identity.userId) }))
  .patch("/:id", async (c) => {
    const body = await readJson(c, renameBody);
    const { services, identity, ctx } = c.var;
    return c.json(await services.passwordless.passkeys.rename(c.req.param("id"), identity.userId, body.name, ctx));
  })
  .delete("/:id", async (c) => {
    const { services, identity, ctx } = c.var;
    await services.passwordless.passkeys.delete(c.req.param("id"), identity.userId, ctx);
    return c.body(null, 204);
  });
