/**
 * @module routes/password-reset
 * /auth/password-reset: request a reset link, the page behind it, and confirm.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app/app-env";
import { AuthError } from "../app/errors/codes";
import { readJson } from "../app/json-body";
import { tooManyRequests } from "../authn/login-flow";
import { normalizeEmail } from "../lib/email";
import { rateLimit } from "../limits/rate-limit-middleware";
import { passwordResetPage, tokenPage } from "../ui/token-page";
import { publicUser } from "./users";

const requestBody = z.object({ email: z.string().max(1024) });
const confirmBody = z.object({ token: z.string().min(1).max(512), password: z.string() });
const perIp = rateLimit({ name: "password-reset", limit: (c) => c.rateLimits.perIp.passwordReset });

export const passwordResetRoutes = new Hono<AppEnv>()
  .post("/", perIp, async (c) => {
    const { email } = await readJson(c, requestBody);
    const { passwordReset, limiter, config } = c.var.services;
    const now = Date.now();
    // Per address too: each request mails the address.
    const perEmail = await limiter.consume(
      `password-reset:email:${normalizeEmail(email)}`,
      { limit: config.rateLimits.mailsPerEmail, windowMs: 3_600_000 },
      now,
    );
    if (!perEmail.allowed) {
      c.var.audit.record("rate_limited", null, { limit: "password-reset-per-email" }, now);
      throw tooManyRequests(perEmail.retryAfterMs);
    }
    const userId = await passwordReset.request(email, now, (work) => c.executionCtx.waitUntil(work));
    c.var.audit.record("password_reset_requested", userId, { account_exists: userId !== null }, now);
    // The same answer whether or not the address has an account.
    return c.json({ status: "reset_requested" }, 202);
  })
  .get("/", (c) => tokenPage(c, passwordResetPage))
  .post("/confirm", perIp, async (c) => {
    const { token, password } = await readJson(c, confirmBody);
    const now = Date.now();
    const user = await c.var.services.passwordReset.complete(token, password, now).catch((error: unknown) => {
      c.var.audit.record(
        "password_reset_failed",
        null,
        { error: error instanceof AuthError ? error.code : "server_error" },
        now,
      );
      throw error;
    });
    c.var.audit.record("password_reset_completed", user.id, {}, now);
    return c.json({ user: publicUser(user) });
  });
