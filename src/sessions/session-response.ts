/**
 * @module routes/session-response
 * Starting a session of the kind the client asked for, and the session cookie.
 * The cookie is `__Host-` prefixed (so: Secure, Path=/, no Domain — browsers
 * refuse it otherwise, and treat http://localhost as secure), HttpOnly (no
 * script can read it) and SameSite=Lax (not sent on cross-site subrequests or POSTs).
 */
import type { Context } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../app/app-env";
import type { UserRecord } from "../identity/user-store";
import { publicUser } from "../identity/users";
import { SESSION_COOKIE } from "./browser-sessions";

export type SessionMode = "token" | "cookie";

export async function startSession(
  c: Context<AppEnv>,
  user: UserRecord,
  mode: SessionMode,
  options: { rememberMe?: boolean; now: number },
) {
  const client = { ip: c.var.meta.ip, userAgent: c.var.meta.userAgent };
  if (mode === "token") return c.var.services.sessions.start(user, options.now, client);
  const session = await c.var.services.cookieSessions.create(
    user,
    { rememberMe: options.rememberMe ?? false, ...client },
    options.now,
  );
  setCookie(c, SESSION_COOKIE, session.cookieValue, {
    path: "/",
    secure: true,
    httpOnly: true,
    sameSite: "Lax",
    maxAge: session.maxAgeSeconds,
  });
  return { csrf_token: session.csrfToken, user: publicUser(user) };
}

export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true, httpOnly: true, sameSite: "Lax" });
}
