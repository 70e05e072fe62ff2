/**
 * @module oauth/hosted-magic-link-routes
 * "Email me a link" on the hosted login of the authorization flow, on the same
 * services as POST /auth/magic-link and /auth/magic-link/verify (limits per IP
 * and per address, the login flow, the second factor):
 *   POST /oauth/interaction/{id}/magic-link        the login form's email: mails a link (mode cookie); the inbox page
 *   POST /oauth/interaction/{id}/magic-link/code   the mailed code: starts a browser session and goes back to the interaction
 * Opening the mailed link in the same browser signs it in on the link's own
 * page; the inbox page's "Continue" then goes back to the interaction, which
 * finds the session. Nothing about the interaction is put into the link.
 */
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../app/app-env";
import { AuthError } from "../app/errors/codes";
import { readForm } from "../app/form-body";
import { normalizeCode } from "../authn/magic-link-secret";
import type { SecondFactorRequired } from "../authn/types";
import { looksLikeEmail, normalizeEmail } from "../lib/email";
import { unwrap } from "../lib/settled";
import { startIpRateLimit } from "../limits/rate-limit-middleware";
import { startSession } from "../sessions/session-response";
import { loginPage } from "../ui/login-page";
import { magicLinkSentPage } from "../ui/magic-link-sent-page";
import { mfaPage } from "../ui/mfa-page";
import { refuseCrossSite, renderFailure } from "./hosted-page-http";

const REQUEST_FAILURE_TEXT: Record<string, string> = {
  invalid_request: "Enter your email address to get a sign-in link.",
  too_many_requests: "Too many links asked for. Wait a while and try again, or log in with your password.",
};

const CODE_FAILURE_TEXT: Record<string, string> = {
  invalid_request: "Enter the 6-digit code from the mail.",
  invalid_credentials: "That code is not right, or it has expired. Check the newest mail, or ask for a new link.",
  invalid_grant: "That code was used already. Ask for a new link.",
  too_many_requests: "Too many attempts. Wait a moment and try again.",
  captcha_required:
    "Too many failed attempts from here. This page cannot show a CAPTCHA yet: open the link from the mail instead.",
};

const STATUS: Record<string, ContentfulStatusCode> = {
  invalid_request: 400,
  invalid_grant: 400,
  invalid_credentials: 401,
  captcha_required: 401,
  too_many_requests: 429,
};

/** A failure the page explains itself (its status and text); null for any other. */
function explained(error: unknown, texts: Record<string, string>, c: Context<AppEnv>) {
  if (!(error instanceof AuthError)) return null;
  const text = texts[error.code];
  const status = STATUS[error.code];
  if (!text || !status) return null;
  if (error.retryAfterSeconds) c.header("Retry-After", String(error.retryAfterSeconds));
  return { status, text };
}

export const hostedMagicLinkRoutes = new Hono<AppEnv>()
  .post("/interaction/:id/magic-link", async (c) => {
    try {
      refuseCrossSite(c);
      const gate = startIpRateLimit(c, { name: "magic-link", limit: (config) => config.rateLimits.perIp.magicLink });
      const { services, ctx } = c.var;
      const { interaction, client } = await services.oauth.authorizer.pending(c.req.param("id"), ctx.now);
      const form = await readForm(c);
      const email = form.get("email") ?? "";
      const content = { interactionId: interaction.id, clientName: client.name, email };
      try {
        unwrap(await gate);
        if (email.length > 1024 || !looksLikeEmail(normalizeEmail(email))) {
          throw new AuthError("invalid_request", "email: is not an email address");
        }
        await services.rateLimits.spendMailQuota("magic-link", email, ctx);
        const requested = await services.passwordless.magicLinks.request(
          email,
          { mode: "cookie", rememberMe: false },
          ctx,
        );
        ctx.audit.record("magic_link_requested", requested.userId, { sent: requested.kind, hosted: true }, ctx.now);
      } catch (error) {
        const failure = explained(error, REQUEST_FAILURE_TEXT, c);
        if (!failure) throw error;
        return loginPage(c, { ...content, error: failure.text }, failure.status);
      }
      // The same page whether or not the address has an account.
      return magicLinkSentPage(c, { ...content, error: null });
    } catch (error) {
      return renderFailure(c, error);
    }
  })
  .post("/interaction/:id/magic-link/code", async (c) => {
    try {
      refuseCrossSite(c);
      const gate = startIpRateLimit(c, { name: "login", limit: (config) => config.rateLimits.perIp.login });
      const { services, ctx } = c.var;
      const { interaction, client } = await services.oauth.authorizer.pending(c.req.param("id"), ctx.now);
      const form = await readForm(c);
      const email = form.get("email") ?? "";
      const content = { interactionId: interaction.id, clientName: client.name, email };
      let outcome: SecondFactorRequired | object;
      try {
        const code = normalizeCode(form.get("code") ?? "");
        if (code === null || email.length > 1024 || !looksLikeEmail(normalizeEmail(email))) {
          unwrap(await gate);
          throw new AuthError("invalid_request", "send the email and the 6-digit code");
        }
        // A browser page: a browser session, whatever the link was asked for with.
        const verified = await services.passwordless.magicLinks.verify({ email, code }, { gate }, ctx, (auth) =>
          startSession(c, auth, "cookie", { now: ctx.now }),
        );
        outcome = verified.outcome;
      } catch (error) {
        const failure = explained(error, CODE_FAILURE_TEXT, c);
        if (!failure) throw error;
        return magicLinkSentPage(c, { ...content, error: failure.text }, failure.status);
      }
      if ("kind" in outcome && outcome.kind === "second_factor_required") {
        const binding = { mode: "cookie" as const, rememberMe: false, userAgent: ctx.meta.userAgent };
        const mfaToken = await services.mfa.pendingLogins.begin(outcome.firstFactor, binding, ctx.now);
        return mfaPage(c, { interactionId: interaction.id, mfaToken, clientName: client.name, error: null });
      }
      return c.redirect(`/oauth/interaction/${encodeURIComponent(interaction.id)}`, 303);
    } catch (error) {
      return renderFailure(c, error);
    }
  });
