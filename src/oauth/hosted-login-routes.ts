/**
 * @module oauth/hosted-login-routes
 * The hosted login of the authorization flow, on the same login flow as
 * POST /auth/login (per-IP limit, account lockout, generic errors, audit):
 *   POST /oauth/interaction/{id}/login   email and password; with two-step login on, answers the code page
 *   POST /oauth/interaction/{id}/mfa     the code (or a recovery code) with the login's mfa_token
 * Success starts a browser session (the cookie) and goes back to the interaction.
 */
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../app/app-env";
import { AuthError } from "../app/errors/codes";
import { readForm } from "../app/form-body";
import { requiredSecondFactorProof } from "../authn/second-factor-body";
import type { SecondFactorRequired } from "../authn/types";
import { startIpRateLimit } from "../limits/rate-limit-middleware";
import { startSession } from "../sessions/session-response";
import { loginPage } from "../ui/login-page";
import { mfaPage } from "../ui/mfa-page";
import { refuseCrossSite, renderFailure } from "./hosted-page-http";

const LOGIN_FAILURE_TEXT: Record<string, string> = {
  invalid_credentials: "The email or password is incorrect.",
  email_not_verified: "Confirm your email address first: follow the link we mailed you.",
  too_many_requests: "Too many attempts. Wait a moment and try again.",
  captcha_required:
    "Too many failed attempts from here. This page cannot show a CAPTCHA yet: wait a while, or reset your password.",
};

const MFA_FAILURE_TEXT: Record<string, string> = {
  invalid_credentials: "That code is not right. Try the current one.",
  too_many_requests: "Too many attempts. Wait a moment and try again.",
  invalid_request: "Enter the code from your app, or a recovery code (one of the two).",
};

/** A failure the page explains itself (the status it answers with, and the text); null for any other. */
function explained(error: unknown, texts: Record<string, string>, c: Context<AppEnv>) {
  const text = error instanceof AuthError ? texts[error.code] : undefined;
  if (!text || !(error instanceof AuthError)) return null;
  if (error.retryAfterSeconds) c.header("Retry-After", String(error.retryAfterSeconds));
  const status = (
    error.code === "too_many_requests" ? 429 : error.code === "invalid_request" ? 400 : 401
  ) as ContentfulStatusCode;
  return { status, text };
}

const back = (c: Context<AppEnv>, interactionId: string) =>
  c.redirect(`/oauth/interaction/${encodeURIComponent(interactionId)}`, 303);

/** A form posted to a pending interaction: same-site only, under the login limit, the interaction still live. */
async function interactionPost(c: Context<AppEnv>) {
  refuseCrossSite(c);
  const gate = startIpRateLimit(c, { name: "login", limit: (config) => config.rateLimits.perIp.login });
  const { interaction, client } = await c.var.services.oauth.authorizer.pending(c.req.param("id") ?? "", c.var.ctx.now);
  return { gate, interaction, client, form: await readForm(c) };
}

export const hostedLoginRoutes = new Hono<AppEnv>()
  .post("/interaction/:id/login", async (c) => {
    try {
      const { gate, interaction, client, form } = await interactionPost(c);
      const { services, ctx } = c.var;
      const email = form.get("email") ?? "";
      const password = form.get("password") ?? "";
      let outcome: SecondFactorRequired | object;
      try {
        const request = { email, input: { email, password }, gate };
        outcome = await services.login.login(services.passwordMethod, request, ctx, (auth) =>
          startSession(c, auth, "cookie", { now: ctx.now }),
        );
      } catch (error) {
        const failure = explained(error, LOGIN_FAILURE_TEXT, c);
        if (!failure) throw error;
        const content = { interactionId: interaction.id, clientName: client.name, email, error: failure.text };
        return loginPage(c, content, failure.status);
      }
      if ("kind" in outcome) {
        const binding = { mode: "cookie" as const, rememberMe: false, userAgent: ctx.meta.userAgent };
        const mfaToken = await services.mfa.pendingLogins.begin(outcome.firstFactor, binding, ctx.now);
        return mfaPage(c, { interactionId: interaction.id, mfaToken, clientName: client.name, error: null });
      }
      return back(c, interaction.id);
    } catch (error) {
      return renderFailure(c, error);
    }
  })
  .post("/interaction/:id/mfa", async (c) => {
    try {
      const { gate, interaction, client, form } = await interactionPost(c);
      const { services, ctx } = c.var;
      const mfaToken = form.get("mfa_token") ?? "";
      try {
        const proof = requiredSecondFactorProof({ code: form.get("code"), recovery_code: form.get("recovery_code") });
        await services.mfa.login.complete(mfaToken, proof, ctx, gate, (auth) =>
          startSession(c, auth, "cookie", { now: ctx.now }),
        );
      } catch (error) {
        const failure = explained(error, MFA_FAILURE_TEXT, c);
        if (!failure) throw error;
        const content = { interactionId: interaction.id, mfaToken, clientName: client.name, error: failure.text };
        return mfaPage(c, content, failure.status);
      }
      return back(c, interaction.id);
    } catch (error) {
      return renderFailure(c, error);
    }
  });
