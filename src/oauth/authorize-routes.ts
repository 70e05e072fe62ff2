/**
 * @module oauth/authorize-routes
 * The authorization endpoint and its hosted pages:
 *   GET|POST /oauth/authorize                       RFC 6749 §4.1.1 (POST: OIDC Core §3.1.2.1)
 *   GET      /oauth/interaction/{id}                where a waiting request stands (login or consent page)
 *   POST     /oauth/interaction/{id}/login          the login page's form
 *   POST     /oauth/interaction/{id}/consent        the consent page's form (session cookie + CSRF token)
 * Errors before the client and redirect URI are validated are shown on a
 * local page; after, they are redirected to the client with `state` and `iss`.
 */
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../app/app-env";
import { AuthError } from "../app/errors/codes";
import { renderAuthorizeError } from "../app/errors/oauth";
import { OAuthParams, readForm } from "../app/form-body";
import { timingSafeEqualStrings } from "../lib/crypto/timing-safe";
import { startIpRateLimit } from "../limits/rate-limit-middleware";
import { startSession } from "../sessions/session-response";
import { consentPage } from "../ui/consent-page";
import { errorPage } from "../ui/error-page";
import { loginPage } from "../ui/login-page";
import { AuthorizeFailure, checkAuthorizationRequest, checkClientAndRedirect } from "./authorize/authorization-request";
import type { AuthorizeOutcome } from "./authorize/authorizer";
import { browserSession, refuseCrossSite } from "./hosted-page-http";

function render(c: Context<AppEnv>, outcome: AuthorizeOutcome): Response | Promise<Response> {
  if (outcome.kind === "redirect") return c.redirect(outcome.location, c.req.method === "POST" ? 303 : 302);
  if (outcome.kind === "login") {
    const { interaction, client } = outcome;
    const email = interaction.request.loginHint;
    return loginPage(c, { interactionId: interaction.id, clientName: client.name, email, error: null });
  }
  const { interaction, client } = outcome;
  return consentPage(c, {
    interactionId: interaction.id,
    clientName: client.name,
    logoUri: client.logoUri,
    policyUri: client.policyUri,
    redirectUri: interaction.request.redirectUri,
    scopes: outcome.scopes,
    userEmail: outcome.userEmail,
    csrfToken: outcome.csrfToken,
  });
}

/** Every failure of this surface: a redirect where allowed, else a local page. */
function renderFailure(c: Context<AppEnv>, error: unknown): Response {
  const failure = error instanceof AuthorizeFailure ? error : null;
  const outcome = renderAuthorizeError(failure ? failure.error : error, failure?.context ?? null);
  if (outcome.kind === "redirect") return c.redirect(outcome.location, c.req.method === "POST" ? 303 : 302);
  const title = outcome.status >= 500 ? "Something went wrong" : "This sign-in request cannot continue";
  return errorPage(c, outcome.status as ContentfulStatusCode, {
    title,
    code: outcome.code,
    description: outcome.description,
  });
}

async function authorize(c: Context<AppEnv>, params: OAuthParams) {
  const { services, ctx } = c.var;
  const clientId = params.get("client_id");
  const client = clientId && clientId.length <= 128 ? await services.oauth.clients.find(clientId) : null;
  const context = checkClientAndRedirect(params, client, services.config.issuer);
  const request = checkAuthorizationRequest(params, client as NonNullable<typeof client>, context);
  return render(
    c,
    await services.oauth.authorizer.decide(
      request,
      client as NonNullable<typeof client>,
      await browserSession(c),
      null,
      ctx,
    ),
  );
}

const LOGIN_FAILURE_TEXT: Record<string, string> = {
  invalid_credentials: "The email or password is incorrect.",
  email_not_verified: "Confirm your email address first: follow the link we mailed you.",
  too_many_requests: "Too many attempts. Wait a moment and try again.",
  captcha_required:
    "Too many failed attempts from here. This page cannot show a CAPTCHA yet: wait a while, or reset your password.",
};

export const authorizeRoutes = new Hono<AppEnv>()
  .get("/authorize", async (c) => {
    try {
      return await authorize(c, OAuthParams.parse(new URL(c.req.url).search));
    } catch (error) {
      return renderFailure(c, error);
    }
  })
  .post("/authorize", async (c) => {
    try {
      return await authorize(c, await readForm(c));
    } catch (error) {
      return renderFailure(c, error);
    }
  })
  .get("/interaction/:id", async (c) => {
    try {
      const { services, ctx } = c.var;
      const { interaction, client } = await services.oauth.authorizer.pending(c.req.param("id"), ctx.now);
      return render(
        c,
        await services.oauth.authorizer.decide(interaction.request, client, await browserSession(c), interaction, ctx),
      );
    } catch (error) {
      return renderFailure(c, error);
    }
  })
  .post("/interaction/:id/login", async (c) => {
    try {
      refuseCrossSite(c);
      const gate = startIpRateLimit(c, { name: "login", limit: (config) => config.rateLimits.perIp.login });
      const { services, ctx } = c.var;
      const { interaction, client } = await services.oauth.authorizer.pending(c.req.param("id"), ctx.now);
      const form = await readForm(c);
      const email = form.get("email") ?? "";
      const password = form.get("password") ?? "";
      try {
        const request = { email, input: { email, password }, gate };
        const outcome = await services.login.login(services.passwordMethod, request, ctx, (auth) =>
          startSession(c, auth, "cookie", { now: ctx.now }),
        );
        if ("kind" in outcome)
          throw new AuthError("server_error", "a second factor is required but none is configured");
      } catch (error) {
        const text = error instanceof AuthError ? LOGIN_FAILURE_TEXT[error.code] : undefined;
        if (!text || !(error instanceof AuthError)) throw error;
        const status = (error.code === "too_many_requests" ? 429 : 401) as ContentfulStatusCode;
        if (error.retryAfterSeconds) c.header("Retry-After", String(error.retryAfterSeconds));
        return loginPage(c, { interactionId: interaction.id, clientName: client.name, email, error: text }, status);
      }
      return c.redirect(`/oauth/interaction/${encodeURIComponent(interaction.id)}`, 303);
    } catch (error) {
      return renderFailure(c, error);
    }
  })
  .post("/interaction/:id/consent", async (c) => {
    try {
      refuseCrossSite(c);
      const { services, ctx } = c.var;
      const { interaction, client } = await services.oauth.authorizer.pending(c.req.param("id"), ctx.now);
      const form = await readForm(c);
      const browser = await browserSession(c);
      if (!browser) return c.redirect(`/oauth/interaction/${encodeURIComponent(interaction.id)}`, 303);
      const token = form.get("csrf_token") ?? "";
      if (!timingSafeEqualStrings(token, browser.csrfToken)) {
        ctx.audit.record("csrf_failed", browser.session.user_id, {
          reason: "consent form without the session's token",
        });
        throw new AuthError("csrf_failed", "the form is stale; go back and try again");
      }
      const decision = form.get("decision");
      if (decision !== "allow" && decision !== "deny")
        throw new AuthError("invalid_request", "decision: allow or deny");
      return render(
        c,
        await services.oauth.authorizer.answerConsent(interaction, client, browser, decision === "allow", ctx),
      );
    } catch (error) {
      return renderFailure(c, error);
    }
  });
