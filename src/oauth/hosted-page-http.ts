/**
 * @module oauth/hosted-page-http
 * What the hosted pages' handlers share: the browser session behind the
 * request's cookie, whether a form post came from one of our pages, and how
 * a failure of the authorization flow is answered.
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../app/app-env";
import { AuthError } from "../app/errors/codes";
import { renderAuthorizeError } from "../app/errors/oauth";
import { isSameOriginPost } from "../app/same-origin";
import { type ResolvedBrowserSession, SESSION_COOKIE } from "../sessions/browser-sessions";
import { errorPage } from "../ui/error-page";
import { AuthorizeFailure } from "./authorize/authorization-request";

/** The live browser session of the request's cookie, or null. */
export async function browserSession(c: Context<AppEnv>): Promise<ResolvedBrowserSession | null> {
  const cookie = getCookie(c, SESSION_COOKIE);
  return cookie ? c.var.services.browserSessions.resolve(cookie, c.var.ctx.now) : null;
}

/** csrf_failed unless the form was posted from one of our own pages. */
export function refuseCrossSite(c: Context<AppEnv>): void {
  if (!isSameOriginPost(c, c.var.services.config.publicUrl)) {
    c.var.ctx.audit.record("csrf_failed", null, { reason: "cross-site post to a hosted page" });
    throw new AuthError("csrf_failed", "this form must be sent from its own page");
  }
}

/** Every failure of this surface: a redirect where allowed, else a local page. */
export function renderFailure(c: Context<AppEnv>, error: unknown): Response {
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
