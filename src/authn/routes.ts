/**
 * @module authn/routes
 *   POST /auth/login {email, password, captcha_token?, mode?, remember_me?}
 * The per-IP limit is started before the body is read and gates everything
 * else (LoginFlow); then the per-account budget, the CAPTCHA and the password.
 * `mode: "cookie"` starts a browser session (HttpOnly cookie + CSRF token)
 * instead of returning tokens. An account with two-step login answers
 * 401 mfa_required with an `mfa_token` for POST /auth/mfa/verify instead.
 */
import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../app/app-env";
import { readJson } from "../app/json-body";
import { startIpRateLimit } from "../limits/rate-limit-middleware";
import { startSession } from "../sessions/session-response";
import { loginResponse } from "./login-response";

const loginBody = z.object({
  email: z.string().max(1024),
  password: z.string(),
  captcha_token: z.string().min(1).max(4096).optional(),
  mode: z.enum(["token", "cookie"]).default("token"),
  remember_me: z.boolean().default(false),
});

export const loginRoutes = new Hono<AppEnv>().post("/login", async (c) => {
  const gate = startIpRateLimit(c, { name: "login", limit: (config) => config.rateLimits.perIp.login });
  const body = await readJson(c, loginBody);
  const { services, ctx } = c.var;
  const request = {
    email: body.email,
    input: { email: body.email, password: body.password },
    captchaToken: body.captcha_token,
    gate,
  };
  const outcome = await services.login.login(services.passwordMethod, request, ctx, (auth) =>
    startSession(c, auth, body.mode, { rememberMe: body.remember_me, now: ctx.now }),
  );
  return loginResponse(c, outcome, { mode: body.mode, rememberMe: body.remember_me });
});
