/**
 * @module sessions/session-response
 * Starting a session of the kind the client asked for, and the session cookie.
 * The cookie is `__Host-` prefixed (so: Secure, Path=/, no Domain — browsers
 * refuse it otherwise, and treat http://localhost as secure), HttpOnly (no
 * script can read it) and SameSite=Lax (not sent on cross-site subrequests or POSTs).
 */
import type { Context } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import type { AppEnv } from "../app/app-env";
import type { AuthenticationResult } from "../authn/types";
import { publicUser } from "../identity/users";
import { SESSION_COOKIE } from "./browser-sessions";

export type SessionMode = "token" | "cookie";

const COOKIE_ATTRIBUTES = { path: "/", secure: true, httpOnly: true, sameSite: "Lax" } as const satisfies CookieOptions;

export async function startSession(
  c: Context<AppEnv>,
  auth: AuthenticationResult,
  mode: SessionMode,
  options: { rememberMe?: boolean; now: number },
) {
  const { services, ctx } = c.var;
  const client = { ip: ctx.meta.ip, userAgent: ctx.meta.userAgent };
  if (mode === "token") return services.refreshSessions.start(auth, client, options.now);
  const session = await services.browserSessions.create(
    auth,
    { rememberMe: options.rememberMe ?? false, ...client },
    options.now,
  );
  setCookie(c, SESSION_COOKIE, session.cookieValue, { ...COOKIE_ATTRIBUTES, maxAge: session.maxAgeSeconds });
  return { csrf_token: session.csrfToken, user: publicUser(auth.user) };
}

export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, SESSION_COOKIE, COOKIE_ATTRIBUTES);
}
