/**
 * @module identity/password-reset-routes
 * /auth/password-reset: request a reset link (and its page, /request), the page behind the link, and confirm.
 */
import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../app/app-env";
import { AuthError } from "../app/errors/codes";
import { readJson } from "../app/json-body";
import { secondFactorFields, secondFactorProof } from "../authn/second-factor-body";
import { rateLimit } from "../limits/rate-limit-middleware";
import { accountFormPage, resetRequestPage } from "../ui/account-form-page";
import { passwordResetPage, tokenPage } from "../ui/token-page";
import { publicUser } from "./users";

const requestBody = z.object({ email: z.string().max(1024) });
const confirmBody = z.object({ token: z.string().min(1).max(512), password: z.string(), ...secondFactorFields });
const perIp = rateLimit({ name: "password-reset", limit: (c) => c.rateLimits.perIp.passwordReset });

export const passwordResetRoutes = new Hono<AppEnv>()
  .post("/", perIp, async (c) => {
    const { email } = await readJson(c, requestBody);
    const { services, ctx } = c.var;
    // Per address too: each request mails the address.
    await services.rateLimits.spendMailQuota("password-reset", email, ctx);
    const userId = await services.passwordReset.request(email, ctx);
    ctx.audit.record("password_reset_requested", userId, { account_exists: userId !== null }, ctx.now);
    // The same answer whether or not the address has an account.
    return c.json({ status: "reset_requested" }, 202);
  })
  .get("/", (c) => tokenPage(c, passwordResetPage(c.var.services.config.passwordPolicy.minLength)))
  // The hosted "forgot your password" page (linked from the login page); it posts to the route above.
  .get("/request", (c) => accountFormPage(c, resetRequestPage))
  .post("/confirm", perIp, async (c) => {
    const body = await readJson(c, confirmBody);
    const { ctx } = c.var;
    const proof = secondFactorProof(body);
    const user = await c.var.services.passwordReset
      .complete(body.token, body.password, proof, ctx)
      .catch((error: unknown) => {
        const code = error instanceof AuthError ? error.code : "server_error";
        ctx.audit.record("password_reset_failed", null, { error: code }, ctx.now);
        throw error;
      });
    ctx.audit.record("password_reset_completed", user.id, {}, ctx.now);
    return c.json({ user: publicUser(user) });
  });
