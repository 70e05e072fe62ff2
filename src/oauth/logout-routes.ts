/**
 * @module oauth/logout-routes
 *   GET|POST /oauth/logout   OpenID Connect RP-Initiated Logout 1.0: ends the
 *   browser session (asking first unless id_token_hint names its user), then
 *   redirects to a registered post_logout_redirect_uri with `state`, or shows
 *   a "logged out" page. Errors are pages, never redirects.
 */
import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../app/app-env";
import { AuthError } from "../app/errors/codes";
import { renderError } from "../app/errors/render";
import { OAuthParams, readForm } from "../app/form-body";
import { timingSafeEqualStrings } from "../lib/crypto/timing-safe";
import { clearSessionCookie } from "../sessions/session-response";
import { errorPage } from "../ui/error-page";
import { loggedOutPage, logoutConfirmPage } from "../ui/logout-page";
import { browserSession, refuseCrossSite } from "./hosted-page-http";

async function logout(c: Context<AppEnv>, params: OAuthParams, confirmedByForm: boolean) {
  const { services, ctx } = c.var;
  const browser = await browserSession(c);
  const request = await services.oauth.logout.check(params, browser, ctx.now);
  if (browser && !request.confirmed && !confirmedByForm) {
    // The confirmation posts back to this URL with the request's parameters in its query.
    const query = params.toQuery();
    const redirectOrigin = request.redirect ? new URL(request.redirect).origin : null;
    return logoutConfirmPage(c, {
      query,
      clientName: request.clientName,
      csrfToken: browser.csrfToken,
      redirectOrigin,
    });
  }
  if (browser) {
    await services.browserSessions.end(browser.session.id, ctx.now);
    ctx.audit.record(
      "logout",
      browser.session.user_id,
      { session_id: browser.session.id, kind: "cookie", rp_initiated: true },
      ctx.now,
    );
  }
  clearSessionCookie(c);
  return request.redirect ? c.redirect(request.redirect, c.req.method === "POST" ? 303 : 302) : loggedOutPage(c);
}

function failurePage(c: Context<AppEnv>, error: unknown): Response {
  const rendered = renderError(error, c.var.requestId);
  const status = (rendered.status === 401 ? 400 : rendered.status) as ContentfulStatusCode;
  return errorPage(c, status, {
    title: "Logout failed",
    code: rendered.body.error,
    description: rendered.body.error_description,
  });
}

export const logoutRoutes = new Hono<AppEnv>()
  .get("/logout", async (c) => {
    try {
      return await logout(c, OAuthParams.parse(new URL(c.req.url).search), false);
    } catch (error) {
      return failurePage(c, error);
    }
  })
  .post("/logout", async (c) => {
    try {
      const form = await readForm(c);
      const csrf = form.get("csrf_token");
      if (csrf === undefined) return await logout(c, form, false);
      // Our own confirmation page: the request's parameters ride in its URL.
      refuseCrossSite(c);
      const browser = await browserSession(c);
      if (browser && !timingSafeEqualStrings(csrf, browser.csrfToken)) {
        throw new AuthError("csrf_failed", "the form is stale; go back and try again");
      }
      return await logout(c, OAuthParams.parse(new URL(c.req.url).search), true);
    } catch (error) {
      return failurePage(c, error);
    }
  });
