/**
 * @module middleware/authenticate
 * `authenticate(options)`: one identity from either credential.
 *  - `Authorization: Bearer <access token>`: verified like any edge verifier would,
 *    plus revocation. Needs no CSRF token: a browser never attaches it by itself.
 *  - The `__Host-edgelock_session` cookie: the browser attaches it by itself, so
 *    state-changing requests (POST, PUT, PATCH, DELETE) must also carry
 *    `X-CSRF-Token` (the session's token, compared in constant time) and come
 *    from our own or an allowed origin (Origin, else Sec-Fetch-Site). Otherwise
 *    403 csrf_failed, before any handler runs.
 *  - An API key (`Bearer elk_…` or `X-API-Key`), or a request signed with one
 *    (X-Edgelock-Signature …, src/services/request-signing.ts), where a route
 *    allows it (routes that then check a permission: /admin/*).
 * Tokens in the query string are refused outright (they end up in logs, history
 * and Referer headers; RFC 6750 §5.3, RFC 9700).
 */
import type { Context } from "hono";
import { deleteCookie, getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { looksLikeApiKey } from "../api-keys/service";
import type { AppEnv } from "../app/app-env";
import { AuthError, invalidRequest, invalidToken } from "../app/errors/codes";
import { timingSafeEqualStrings } from "../lib/crypto/timing-safe";
import { logEvent } from "../lib/log";
import { SESSION_COOKIE } from "../sessions/browser-sessions";
import { type AccessTokenClaims, verifyAccessToken } from "../tokens/access-tokens";

export type Identity =
  | { kind: "bearer"; userId: string; sessionId: string | null; claims: AccessTokenClaims }
  | { kind: "api_key"; userId: string; sessionId: null; keyId: string; scopes: string[] }
  | { kind: "cookie"; userId: string; sessionId: string; csrfToken: string; rememberMe: boolean };

export interface AuthenticateOptions {
  /** Accept the session cookie as well as a bearer token (default true). */
  cookie?: boolean;
  /**
   * Accept API keys (`Authorization: Bearer elk_…` or `X-API-Key`; default false):
   * only routes that authorize by permission, since a key acts within its scopes.
   */
  apiKey?: boolean;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function authenticate(options: AuthenticateOptions = {}) {
  const acceptCookie = options.cookie ?? true;
  return createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.query("access_token") !== undefined) {
      const error = invalidRequest("access tokens are accepted only in the Authorization header");
      error.headers["WWW-Authenticate"] = 'Bearer realm="edgelock", error="invalid_request"';
      throw error;
    }
    const header = c.req.header("Authorization");
    const apiKeyHeader = c.req.header("X-API-Key");
    const bearerToken = /^Bearer +(\S+) *$/i.exec(header ?? "")?.[1];
    const presentedKey = apiKeyHeader ?? (bearerToken && looksLikeApiKey(bearerToken) ? bearerToken : undefined);
    const cookie = acceptCookie ? getCookie(c, SESSION_COOKIE) : undefined;
    const signature = c.req.header("X-Edgelock-Signature");
    if (signature !== undefined) {
      if (!options.apiKey) throw invalidToken("signed requests are not accepted here; use an access token");
      c.set("identity", await signedIdentity(c, signature));
    } else if (presentedKey !== undefined) {
      if (!options.apiKey) throw invalidToken("API keys are not accepted here; use an access token");
      c.set("identity", await apiKeyIdentity(c, presentedKey));
    } else if (header !== undefined || cookie === undefined) {
      c.set("identity", await bearerIdentity(c, header ?? ""));
    } else {
      c.set("identity", await cookieIdentity(c, cookie));
    }
    await next();
  });
}

async function bearerIdentity(c: Context<AppEnv>, header: string): Promise<Identity> {
  // No Bearer credentials at all (no header, or another scheme): RFC 6750 §3.1's bare challenge.
  if (!/^Bearer(\s|$)/i.test(header)) throw invalidToken("a bearer access token is required", { tokenPresent: false });
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!match?.[1]) throw invalidToken("the Authorization header must be 'Bearer <token>'");
  const { keys, accessTokenSettings, revocation } = c.var.services;
  const claims = await verifyAccessToken(match[1], keys, accessTokenSettings, revocation, Date.now());
  return { kind: "bearer", userId: claims.sub, sessionId: typeof claims.sid === "string" ? claims.sid : null, claims };
}

async function apiKeyIdentity(c: Context<AppEnv>, presented: string): Promise<Identity> {
  const now = Date.now();
  const { apiKeys, users } = c.var.services;
  const key = await apiKeys.authenticate(presented, now);
  const user = key ? await users.findById(key.row.user_id) : null;
  if (!key || !user || user.disabled_at !== null) throw invalidToken("the API key is invalid, expired or revoked");
  if (key.markUsedDue) c.executionCtx.waitUntil(apiKeys.markUsed(key.row.id, now).catch(() => {}));
  return { kind: "api_key", userId: user.id, sessionId: null, keyId: key.row.id, scopes: key.scopes };
}

async function signedIdentity(c: Context<AppEnv>, signature: string): Promise<Identity> {
  const now = Date.now();
  const { apiKeys, users } = c.var.services;
  const parts = {
    method: c.req.method,
    url: c.req.url,
    timestamp: c.req.header("X-Edgelock-Timestamp") ?? "",
    nonce: c.req.header("X-Edgelock-Nonce") ?? "",
    body: new Uint8Array(await c.req.arrayBuffer()),
  };
  const result = await apiKeys.authenticateSigned(c.req.header("X-Edgelock-Key-Id") ?? "", parts, signature, now);
  const user = "key" in result ? await users.findById(result.key.row.user_id) : null;
  if (!("key" in result) || !user || user.disabled_at !== null) {
    // Logged, not audited: anyone can send these headers, and the audit log must
    // not be something an anonymous client can fill.
    logEvent("warn", "signed_request_refused", {
      request_id: c.var.requestId,
      reason: "reason" in result ? result.reason : "owner disabled",
    });
    throw invalidToken("the request signature is invalid, expired or replayed");
  }
  const { key } = result;
  if (key.markUsedDue) c.executionCtx.waitUntil(apiKeys.markUsed(key.row.id, now).catch(() => {}));
  return { kind: "api_key", userId: user.id, sessionId: null, keyId: key.row.id, scopes: key.scopes };
}

async function cookieIdentity(c: Context<AppEnv>, cookie: string): Promise<Identity> {
  const now = Date.now();
  const { cookieSessions, config } = c.var.services;
  const resolved = await cookieSessions.resolve(cookie, now);
  if (!resolved) {
    deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true });
    throw invalidToken("the session has ended; log in again", { tokenPresent: false });
  }
  if (!SAFE_METHODS.has(c.req.method)) {
    const allowedOrigins = [new URL(config.publicUrl).origin, ...config.corsAllowedOrigins];
    checkCsrf(c, resolved.csrfToken, allowedOrigins);
  }
  if (resolved.touchDue) c.executionCtx.waitUntil(cookieSessions.touch(resolved.session.id, now).catch(() => {}));
  return {
    kind: "cookie",
    userId: resolved.session.user_id,
    sessionId: resolved.session.id,
    csrfToken: resolved.csrfToken,
    rememberMe: resolved.session.remember_me === 1,
  };
}

function checkCsrf(c: Context<AppEnv>, expected: string, allowedOrigins: string[]): void {
  const fail = (why: string) => {
    c.var.audit.record("csrf_failed", null, { reason: why });
    return new AuthError(403, "csrf_failed", `cross-site request refused: ${why}`);
  };
  const origin = c.req.header("Origin");
  const fetchSite = c.req.header("Sec-Fetch-Site");
  if (origin !== undefined) {
    if (!allowedOrigins.includes(origin)) throw fail("the Origin is not allowed");
  } else if (fetchSite !== "same-origin") {
    // Browsers send Origin on every cross-origin and most same-origin POSTs, and
    // Sec-Fetch-Site on all of them: a request with neither is not a browser we can vouch for.
    throw fail("no Origin or same-origin Sec-Fetch-Site");
  }
  const token = c.req.header("X-CSRF-Token");
  if (!token) throw fail("the X-CSRF-Token header is missing");
  if (!timingSafeEqualStrings(token, expected)) throw fail("the X-CSRF-Token is wrong");
}
