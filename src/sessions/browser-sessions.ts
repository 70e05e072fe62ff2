/**
 * @module sessions/browser-sessions
 * `BrowserSessions`: stateful browser sessions. A random secret in a `__Host-`
 * cookie, the session itself in D1 (stored under the secret's SHA-256), idle
 * and absolute timeouts, and a CSRF token derived from the secret.
 *
 * Why D1 (not KV): logout must end a session everywhere at once, and owners list
 * their sessions by user — KV offers neither strong consistency nor queries.
 * Why a derived CSRF token (HMAC of the cookie secret): nothing more to store,
 * it changes whenever the session does, and only someone who can read the
 * login response (or GET /auth/session) ever sees it — never a cross-site page.
 */
import type { AuthenticationResult } from "../authn/types";
import { hmacSha256, sha256Hex } from "../lib/crypto/digest";
import { base64url } from "../lib/crypto/encoding";
import { randomId, randomToken } from "../lib/crypto/random";
import type { RevocationWriter } from "./revocation-store";
import type { CookieSessionRow, SessionStore } from "./session-store";

export const SESSION_COOKIE = "__Host-edgelock_session";
const COOKIE_BYTES = 32; // 256 bits
const COOKIE_SHAPE = /^[A-Za-z0-9_-]{43}$/;
// last_seen_at is written at most this often: idle timeouts are minutes, and a
// D1 write per request would be waste.
const TOUCH_INTERVAL_MS = 60_000;

export interface BrowserSessionTimeouts {
  idleMs: number;
  absoluteMs: number;
  rememberMeIdleMs: number;
  rememberMeAbsoluteMs: number;
}

export interface BrowserSessionsOptions {
  store: SessionStore;
  revocation: RevocationWriter;
  timeouts: BrowserSessionTimeouts;
  /** When every access token minted from a session has expired: revoked-sid lives this long. */
  accessTokenHorizonMs: number;
}

export interface NewBrowserSession {
  cookieValue: string;
  sessionId: string;
  csrfToken: string;
  /** For the cookie's Max-Age. */
  maxAgeSeconds: number;
}

export interface ResolvedBrowserSession {
  session: CookieSessionRow;
  csrfToken: string;
  /** True when last_seen_at is due for an update (do it off the response path). */
  touchDue: boolean;
}

export class BrowserSessions {
  readonly #o: BrowserSessionsOptions;

  constructor(options: BrowserSessionsOptions) {
    this.#o = options;
  }

  /** Always a new id and secret: a session is never carried over from before a login (no fixation). */
  async create(
    auth: AuthenticationResult,
    options: { rememberMe: boolean; ip: string | null; userAgent: string | null },
    now: number,
  ): Promise<NewBrowserSession> {
    const cookieValue = randomToken(COOKIE_BYTES);
    const sessionId = randomId();
    const t = this.#o.timeouts;
    const idleMs = options.rememberMe ? t.rememberMeIdleMs : t.idleMs;
    const absoluteMs = options.rememberMe ? t.rememberMeAbsoluteMs : t.absoluteMs;
    await this.#o.store.insert({
      id: sessionId,
      userId: auth.user.id,
      kind: "cookie",
      tokenHash: await sha256Hex(cookieValue),
      now,
      idleTimeoutMs: idleMs,
      rememberMe: options.rememberMe,
      expiresAt: now + absoluteMs,
      ip: options.ip,
      userAgent: options.userAgent,
      amr: auth.amr,
      authTime: auth.authTime,
    });
    return {
      cookieValue,
      sessionId,
      csrfToken: await csrfTokenFor(cookieValue),
      maxAgeSeconds: Math.floor(absoluteMs / 1000),
    };
  }

  /** The live session behind a cookie, or null (unknown, revoked, idle, past its end, user logged out everywhere or disabled). */
  async resolve(cookieValue: string, now: number): Promise<ResolvedBrowserSession | null> {
    if (!COOKIE_SHAPE.test(cookieValue)) return null;
    const session = await this.#o.store.findCookieSession(await sha256Hex(cookieValue));
    if (!session || session.revoked_at !== null || session.disabled_at !== null) return null;
    if (now >= session.expires_at) return null;
    if (session.idle_timeout_ms !== null && now >= session.last_seen_at + session.idle_timeout_ms) return null;
    if (session.created_at < session.tokens_not_before) return null;
    return {
      session,
      csrfToken: await csrfTokenFor(cookieValue),
      touchDue: now - session.last_seen_at >= TOUCH_INTERVAL_MS,
    };
  }

  touch(sessionId: string, now: number): Promise<void> {
    return this.#o.store.touch(sessionId, now);
  }

  /** Ends the session: the cookie stops working and so do access tokens minted from it. */
  async end(sessionId: string, now: number): Promise<void> {
    await Promise.all([
      this.#o.store.revoke(sessionId, now),
      this.#o.revocation.revokeSession(sessionId, now + this.#o.accessTokenHorizonMs, now),
    ]);
  }
}

export async function csrfTokenFor(cookieValue: string): Promise<string> {
  return base64url(await hmacSha256(cookieValue, "edgelock/csrf"));
}
