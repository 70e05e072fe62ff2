/**
 * @module oaut./hosted-page-http
 * What the hosted pages' handlers read from a request: the browser session
 * behind its cookie, and whether a form post came from one of our pages.
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { AppEnv } from "../app/app-env";
import { AuthError } from "../app/errors/codes";
import { isSameOriginPost } from "../app/same-origin";
import { type ResolvedBrowserSession, SESSION_COOKIE } from "../sessions/browser-sessions";

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
