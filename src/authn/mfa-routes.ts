/**
 * @module authn/mfa-routes
 * Two-step login (TOTP and recovery codes):
 *   GET    /auth/mfa                          status: on or off, recovery codes left
 *   POST   /auth/mfa/totp {password?}         start enrolment (fresh login or password): secret, otpauth URI, QR code
 *   POST   /auth/mfa/totp/confirm {code}      turn it on with a first code; answers the recovery codes once
 *   DELETE /auth/mfa/totp {password, code | recovery_code}   turn it off
 *   POST   /auth/mfa/recovery-codes {password?, code | recovery_code}   a new set
 *   POST   /auth/mfa/verify {mfa_token, code | recovery_code}   the second step of a login
 */
import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../app/app-env";
import { readJson } from "../app/json-body";
import { rateLimit, startIpRateLimit } from "../limits/rate-limit-middleware";
import { startSession } from "../sessions/session-response";
import { authenticate, authTimeOf } from "./authenticate-middleware";
import { requiredSecondFactorProof, secondFactorFields, secondFactorProof } from "./second-factor-body";

const perIpLogin = rateLimit({ name: "login", limit: (config) => config.rateLimits.perIp.login });
const enrolBody = z.object({ password: z.string().max(1024).optional() });
const confirmBody = z.object({ code: z.string().max(16) });
const disableBody = z.object({ password: z.string().max(1024), ...secondFactorFields });
const regenerateBody = z.object({ password: z.string().max(1024).optional(), ...secondFactorFields });
const verifyBody = z.object({ mfa_token: z.string().max(128), ...secondFactorFields });

export const mfaRoutes = new Hono<AppEnv>()
  .get("/mfa", authenticate(), async (c) => c.json(await c.var.services.mfa.settings.status(c.var.identity.userId)))
  .post("/mfa/totp", perIpLogin, authenticate(), async (c) => {
    const { password } = await readJson(c, enrolBody, { allowEmpty: true });
    const { identity, ctx, services } = c.var;
    return c.json(await services.mfa.settings.beginTotp(identity.userId, authTimeOf(identity), password, ctx), 201);
  })
  .post("/mfa/totp/confirm", perIpLogin, authenticate(), async (c) => {
    const { code } = await readJson(c, confirmBody);
    return c.json(await c.var.services.mfa.settings.confirmTotp(c.var.identity.userId, code, c.var.ctx));
  })
  .delete("/mfa/totp", perIpLogin, authenticate(), async (c) => {
    const body = await readJson(c, disableBody);
    const { identity, ctx, services } = c.var;
    await services.mfa.settings.disable(identity.userId, body.password, secondFactorProof(body), ctx);
    return c.body(null, 204);
  })
  .post("/mfa/recovery-codes", perIpLogin, authenticate(), async (c) => {
    const body = await readJson(c, regenerateBody);
    const { identity, ctx, services } = c.var;
    const proof = secondFactorProof(body);
    return c.json(
      await services.mfa.settings.regenerateRecoveryCodes(
        identity.userId,
        authTimeOf(identity),
        body.password,
        proof,
        ctx,
      ),
    );
  })
  .post("/mfa/verify", async (c) => {
    const gate = startIpRateLimit(c, { name: "login", limit: (config) => config.rateLimits.perIp.login });
    const body = await readJson(c, verifyBody);
    const proof = requiredSecondFactorProof(body);
    const { services, ctx } = c.var;
    const completed = await services.mfa.login.complete(body.mfa_token, proof, ctx, gate, (auth, pending) =>
      startSession(c, auth, pending.mode, { rememberMe: pending.rememberMe, now: ctx.now }),
    );
    return c.json(completed);
  });
