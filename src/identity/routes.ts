/**
 * @module identity/routes
 * Accounts: signup, email verification, password change, and /auth/me.
 * HTTP only: parse, call a service, shape the response. Every credential
 * endpoint carries a per-IP rate limit.
 */
import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../app/app-env";
import { readJson } from "../app/json-body";
import { authenticate } from "../authn/authenticate-middleware";
import { secondFactorFields, secondFactorProof } from "../authn/second-factor-body";
import { rateLimit } from "../limits/rate-limit-middleware";
import { startSession } from "../sessions/session-response";
import { accountFormPage, signupPage } from "../ui/account-form-page";
import { tokenPage, verifyEmailPage } from "../ui/token-page";
import { publicUser } from "./users";

const credentials = z.object({ email: z.string().max(1024), password: z.string() });
const verifyBody = z.object({ token: z.string().min(1).max(512), password: z.string() });
const passwordChangeBody = z.object({ current_password: z.string(), new_password: z.string(), ...secondFactorFields });

export const accountRoutes = new Hono<AppEnv>()
  // The hosted signup page (linked from the login page); it posts to the route below.
  .get("/signup", (c) => accountFormPage(c, signupPage(c.var.services.config.passwordPolicy.minLength)))
  .post("/signup", rateLimit({ name: "signup", limit: (c) => c.rateLimits.perIp.signup }), async (c) => {
    const { email, password } = await readJson(c, credentials);
    const { services, ctx } = c.var;
    // Per address as well as per IP: each signup mails the address, and nobody
    // should be able to flood an inbox from many IPs.
    await services.rateLimits.spendMailQuota("signup", email, ctx);
    const result = await services.signup.signup(email, password, ctx);
    if (result.kind === "verification_required") {
      ctx.audit.record("signup", result.userId, { existing_account: result.existingAccount }, ctx.now);
      return c.json({ status: "verification_required" }, 202);
    }
    ctx.audit.record("signup", result.user.id, { existing_account: false, verified: true }, ctx.now);
    const auth = { user: result.user, amr: ["pwd"], authTime: ctx.now };
    return c.json(await startSession(c, auth, "token", { now: ctx.now }), 201);
  })
  // The mailed link lands here. GET must not spend the token (mail scanners
  // prefetch links), so it only serves a page whose button POSTs it.
  .get("/verify-email", (c) => tokenPage(c, verifyEmailPage))
  .post(
    "/verify-email",
    rateLimit({ name: "verify-email", limit: (c) => c.rateLimits.perIp.verifyEmail }),
    async (c) => {
      const { token, password } = await readJson(c, verifyBody);
      const { ctx } = c.var;
      const user = await c.var.services.emailVerification.verify(token, password, ctx);
      ctx.audit.record("email_verified", user.id, {}, ctx.now);
      return c.json({ user: publicUser(user) });
    },
  )
  .post(
    "/password",
    rateLimit({ name: "login", limit: (c) => c.rateLimits.perIp.login }),
    authenticate(),
    async (c) => {
      const body = await readJson(c, passwordChangeBody);
      const { identity, ctx } = c.var;
      const auth = await c.var.services.passwordChange.change(
        identity.userId,
        body.current_password,
        body.new_password,
        secondFactorProof(body),
        ctx,
      );
      // Every session ended with the change; the caller continues in a new one of the
      // same kind (and, for a cookie, the same "remember me"), started after the cut-off.
      const mode = identity.kind === "cookie" ? "cookie" : "token";
      const rememberMe = identity.kind === "cookie" && identity.rememberMe;
      return c.json(await startSession(c, auth, mode, { rememberMe, now: Date.now() }));
    },
  )
  .get("/me", authenticate(), async (c) => {
    const user = await c.var.services.users.requireActive(c.var.identity.userId);
    return c.json({ user: publicUser(user) });
  });
