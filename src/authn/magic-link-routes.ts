/**
 * @module authn/magic-link-routes
 *   POST /auth/magic-link {email, mode?, remember_me?}        202, the same answer for every address
 *   GET  /auth/magic-link?token=…                              the link's page (spends nothing)
 *   POST /auth/magic-link/verify {token} | {email, code}       a login: answers as POST /auth/login does
 * Asking is limited per IP and per address (each ask mails it); using a link
 * or code runs the login's per-IP gate and the account's failure budget.
 */
import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../app/app-env";
import { AuthError, invalidRequest } from "../app/errors/codes";
import { readJson } from "../app/json-body";
import { looksLikeEmail, normalizeEmail } from "../lib/email";
import { rateLimit, startIpRateLimit } from "../limits/rate-limit-middleware";
import { startSession } from "../sessions/session-response";
import { magicLinkPage } from "../ui/magic-link-page";
import { loginResponse } from "./login-response";
import { normalizeCode } from "./magic-link-secret";
import type { MagicLinkProofInput } from "./magic-links";

const email = z
  .string()
  .max(1024)
  .refine((value) => looksLikeEmail(normalizeEmail(value)), "is not an email address");

const requestBody = z.object({
  email,
  mode: z.enum(["token", "cookie"]).default("token"),
  remember_me: z.boolean().default(false),
});

const verifyBody = z.object({
  token: z.string().min(1).max(512).optional(),
  email: email.optional(),
  code: z.string().max(16).optional(),
  captcha_token: z.string().min(1).max(4096).optional(),
});

/** The answer to a wrong code, a used-up link, a disabled account: one sentence for all (as a password login's). */
const NOT_ACCEPTED = "The code or link was not accepted: it is wrong, used or expired, or the account cannot sign in.";

function proofOf(body: z.output<typeof verifyBody>): MagicLinkProofInput {
  if (body.token !== undefined) {
    if (body.email !== undefined || body.code !== undefined) throw invalidRequest("send token, or email and code");
    return { token: body.token };
  }
  if (body.email === undefined || body.code === undefined) throw invalidRequest("send token, or email and code");
  const code = normalizeCode(body.code);
  if (code === null) throw invalidRequest("code: must be the 6 digits from the mail");
  return { email: body.email, code };
}

const perIpRequest = rateLimit({ name: "magic-link", limit: (config) => config.rateLimits.perIp.magicLink });

export const magicLinkRoutes = new Hono<AppEnv>()
  .post("/", perIpRequest, async (c) => {
    const body = await readJson(c, requestBody);
    const { services, ctx } = c.var;
    // Per address too: each request may mail it. Counted for unknown addresses alike.
    await services.rateLimits.spendMailQuota("magic-link", body.email, ctx);
    const binding = { mode: body.mode, rememberMe: body.remember_me };
    const requested = await services.passwordless.magicLinks.request(body.email, binding, ctx);
    ctx.audit.record("magic_link_requested", requested.userId, { sent: requested.kind }, ctx.now);
    // The same answer whether or not the address has an account (or gets a mail).
    return c.json({ status: "link_requested" }, 202);
  })
  // The mailed link lands here: a page whose button POSTs the token. GET spends nothing.
  .get("/", async (c) => {
    const { services, ctx } = c.var;
    const binding = await services.passwordless.magicLinks.describe(c.req.query("token") ?? "", ctx.now);
    return magicLinkPage(c, binding ? binding.mode : "dead", binding?.email ?? "");
  })
  .post("/verify", async (c) => {
    const gate = startIpRateLimit(c, { name: "login", limit: (config) => config.rateLimits.perIp.login });
    const body = await readJson(c, verifyBody);
    const proof = proofOf(body);
    const { services, ctx } = c.var;
    const options = { captchaToken: body.captcha_token, gate };
    const { binding, outcome } = await services.passwordless.magicLinks
      .verify(proof, options, ctx, (auth, bound) =>
        startSession(c, auth, bound.mode, { rememberMe: bound.rememberMe, now: ctx.now }),
      )
      .catch((error: unknown) => {
        if (error instanceof AuthError && error.code === "invalid_credentials") {
          throw new AuthError("invalid_credentials", NOT_ACCEPTED);
        }
        throw error;
      });
    return loginResponse(c, outcome, { mode: binding.mode, rememberMe: binding.rememberMe });
  });
