/**
 * @module routes/auth
 * /auth/*: signup, email verification, login, refresh, logout, logout-all,
 * password change, me.
 * HTTP only: parse, call a service, shape the response. Every credential
 * endpoint carries a per-IP rate limit; login also has the per-account lockout.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app/app-env";
import { invalidToken } from "../app/errors/codes";
import { readJson } from "../app/json-body";
import { authenticate } from "../authn/authenticate-middleware";
import { tooManyRequests } from "../authn/login-flow";
import { normalizeEmail } from "../lib/email";
import { rateLimit, startIpRateLimit } from "../limits/rate-limit-middleware";
import { clearSessionCookie, startSession } from "../sessions/session-response";
import { tokenPage, verifyEmailPage } from "../ui/token-page";
import type { UserRecord } from "./user-store";
import { publicUser } from "./users";

const credentials = z.object({ email: z.string().max(1024), password: z.string() });
const loginBody = credentials.extend({
  captcha_token: z.string().min(1).max(4096).optional(),
  mode: z.enum(["token", "cookie"]).default("token"),
  remember_me: z.boolean().default(false),
});
const tokenBody = z.object({ token: z.string().min(1).max(512) });
const refreshBody = z.object({ refresh_token: z.string().min(1).max(512) });
const passwordChangeBody = z.object({ current_password: z.string(), new_password: z.string() });
const logoutBody = z.object({ refresh_token: z.string().min(1).max(512).optional() });

export const authRoutes = new Hono<AppEnv>()
  .post("/signup", rateLimit({ name: "signup", limit: (c) => c.rateLimits.perIp.signup }), async (c) => {
    const { email, password } = await readJson(c, credentials);
    const { accounts, limiter, config } = c.var.services;
    const now = Date.now();
    // Per address as well as per IP: each signup mails the address, and nobody
    // should be able to flood an inbox from many IPs.
    const perEmail = await limiter.consume(
      `signup:email:${normalizeEmail(email)}`,
      { limit: config.rateLimits.mailsPerEmail, windowMs: 3_600_000 },
      now,
    );
    if (!perEmail.allowed) {
      c.var.audit.record("rate_limited", null, { limit: "signup-per-email" }, now);
      throw tooManyRequests(perEmail.retryAfterMs);
    }
    const result = await accounts.signup(email, password, now);
    if (result.kind === "verification_required") {
      c.var.audit.record("signup", result.userId, { existing_account: result.existingAccount }, now);
      return c.json({ status: "verification_required" }, 202);
    }
    c.var.audit.record("signup", result.user.id, { existing_account: false, verified: true }, now);
    return c.json(await startSession(c, result.user, "token", { now }), 201);
  })
  // The mailed link lands here. GET must not spend the token (mail scanners
  // prefetch links), so it only serves a page whose button POSTs it.
  .get("/verify-email", (c) => tokenPage(c, verifyEmailPage))
  .post(
    "/verify-email",
    rateLimit({ name: "verify-email", limit: (c) => c.rateLimits.perIp.verifyEmail }),
    async (c) => {
      const { token } = await readJson(c, tokenBody);
      const now = Date.now();
      const user = await c.var.services.accounts.verifyEmail(token, now);
      c.var.audit.record("email_verified", user.id, {}, now);
      return c.json({ user: publicUser(user) });
    },
  )
  .post("/login", async (c) => {
    // The per-IP limit runs while the body is read, and gates everything else (LoginService).
    const gate = startIpRateLimit(c, { name: "login", limit: (config) => config.rateLimits.perIp.login });
    const body = await readJson(c, loginBody);
    const { ip, userAgent, country } = c.var.meta;
    const request = {
      email: body.email,
      password: body.password,
      captchaToken: body.captcha_token,
      ip,
      userAgent,
      country,
      gate,
    };
    const now = Date.now();
    const background = (work: Promise<unknown>) => c.executionCtx.waitUntil(work);
    // mode "cookie": a browser session (HttpOnly cookie + CSRF token) instead of tokens.
    const start = (user: UserRecord) => startSession(c, user, body.mode, { rememberMe: body.remember_me, now });
    return c.json(await c.var.services.login.login(request, c.var.audit, now, background, start));
  })
  .post("/refresh", async (c) => {
    // The per-IP limit is checked beside the token reads, and answers wait for it
    // (SessionService.refresh): no answer about a token comes past the limit.
    const gate = startIpRateLimit(c, { name: "refresh", limit: (config) => config.rateLimits.perIp.refresh });
    const { refresh_token } = await readJson(c, refreshBody);
    const now = Date.now();
    const onReuse = (event: { familyId: string; userId: string }) =>
      c.var.audit.record("refresh_token_reused", event.userId, { family_id: event.familyId }, now);
    const background = (work: Promise<unknown>) => c.executionCtx.waitUntil(work);
    return c.json(await c.var.services.sessions.refresh(refresh_token, now, { gate, onReuse, background }));
  })
  .post("/logout", authenticate(), async (c) => {
    const { refresh_token } = await readJson(c, logoutBody, { allowEmpty: true });
    const now = Date.now();
    const identity = c.var.identity;
    if (identity.kind === "bearer") {
      await c.var.services.sessions.logout(identity.claims, refresh_token, now);
    } else if (identity.kind === "cookie") {
      await c.var.services.cookieSessions.end(identity.sessionId, now);
      clearSessionCookie(c);
    }
    c.var.audit.record("logout", identity.userId, { session_id: identity.sessionId, kind: identity.kind }, now);
    return c.body(null, 204);
  })
  .post("/logout-all", authenticate(), async (c) => {
    const now = Date.now();
    // The not-before marker ends refresh families, access tokens and cookie sessions alike.
    await c.var.services.sessions.logoutAll(c.var.identity.userId, now);
    if (c.var.identity.kind === "cookie") clearSessionCookie(c);
    c.var.audit.record("logout_all", c.var.identity.userId, {}, now);
    return c.body(null, 204);
  })
  .post(
    "/password",
    rateLimit({ name: "login", limit: (c) => c.rateLimits.perIp.login }),
    authenticate(),
    async (c) => {
      const body = await readJson(c, passwordChangeBody);
      const now = Date.now();
      const identity = c.var.identity;
      const user = await c.var.services.passwordChange.change(
        identity.userId,
        body.current_password,
        body.new_password,
        c.var.audit,
        now,
      );
      // Every session ended with the change; the caller continues in a new one of the
      // same kind (and, for a cookie, the same "remember me"), started after the cut-off.
      const mode = identity.kind === "cookie" ? "cookie" : "token";
      const rememberMe = identity.kind === "cookie" && identity.rememberMe;
      return c.json(await startSession(c, user, mode, { rememberMe, now: Date.now() }));
    },
  )
  .get("/me", authenticate(), async (c) => {
    const user = await c.var.services.users.findById(c.var.identity.userId);
    if (!user || user.disabled_at !== null) {
      throw invalidToken("the access token's user no longer exists or is disabled");
    }
    return c.json({ user: publicUser(user) });
  });
