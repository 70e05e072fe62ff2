/**
 * @module oauth/authorize-routes
 * The authorization endpoint and its hosted pages:
 *   GET|POST /oauth/authorize                       RFC 6749 §4.1.1 (POST: OIDC Core §3.1.2.1)
 *   GET      /oauth/interaction/{id}                where a waiting request stands (login or consent page; for a
 *                                                   device request, login or confirmation: device-routes.ts)
 *   POST     /oauth/interaction/{id}/login, /mfa    the login pages' forms (hosted-login-routes.ts)
 *   POST     /oauth/interaction/{id}/consent        the consent page's form (session cookie + CSRF token)
 * Errors before the client and redirect URI are validated are shown on a
 * local page; after, they are redirected to the client with `state` and `iss`.
 */
import { type Context, Hono } from "hono";
import type { AppEnv } from "../app/app-env";
import { AuthError } from "../app/errors/codes";
import { OAuthParams, readForm } from "../app/form-body";
import { timingSafeEqualStrings } from "../lib/crypto/timing-safe";
import { consentPage } from "../ui/consent-page";
import { loginPage } from "../ui/login-page";
import { AuthorizeFailure, checkAuthorizationRequest, checkClientAndRedirect } from "./authorize/authorization-request";
import type { AuthorizeOutcome } from "./authorize/authorizer";
import { showDeviceInteraction } from "./device-routes";
import { browserSession, refuseCrossSite, renderFailure } from "./hosted-page-http";

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

async function authorize(c: Context<AppEnv>, params: OAuthParams) {
  const { services, ctx } = c.var;
  const clientId = params.get("client_id");
  const client = clientId && clientId.length <= 128 ? await services.oauth.clients.find(clientId) : null;
  const context = checkClientAndRedirect(params, client, services.config.issuer);
  const registered = client as NonNullable<typeof client>;
  const browser = await browserSession(c);
  try {
    const request = checkAuthorizationRequest(params, registered, context);
    return render(c, await services.oauth.authorizer.decide(request, registered, browser, null, ctx));
  } catch (error) {
    // RFC 9700 §4.11.2: a self-registered client's redirect URI is nobody's
    // word; until a user has logged in here, its errors stay on our page, so
    // open registration does not make us an open redirector.
    if (error instanceof AuthorizeFailure && registered.createdBy === "registration" && !browser) {
      throw new AuthorizeFailure(error.error, null);
    }
    throw error;
  }
}

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
      if (interaction.kind === "device") return await showDeviceInteraction(c, interaction, client);
      return render(
        c,
        await services.oauth.authorizer.decide(interaction.request, client, await browserSession(c), interaction, ctx),
      );
    } catch (error) {
      return renderFailure(c, error);
    }
  })
  .post("/interaction/:id/consent", async (c) => {
    try {
      refuseCrossSite(c);
      const { services, ctx } = c.var;
      const { interaction, client } = await services.oauth.authorizer.pending(c.req.param("id"), ctx.now);
      if (interaction.kind !== "authorize") throw new AuthError("invalid_request", "this request asks for no consent");
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
