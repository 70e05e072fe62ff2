/**
 * @module authn/authenticate-middleware
 * `authenticate(options)`: one identity from either credential.
 *  - `Authorization: Bearer <access token>`: verified like any edge verifier would,
 *    plus revocation, and only a first-party token (`client_id` is the server's
 *    own; an OAuth client's token is for that client's APIs). Needs no CSRF
 *    token: a browser never attaches it by itself.
 *  - The `__Host-edgelock_session` cookie: the browser attaches it by itself, so
 *    state-changing requests (POST, PUT, PATCH, DELETE) must also carry
 *    `X-CSRF-Token` (the session's token, compared in constant time) and come
 *    from our own or an allowed origin (Origin, else Sec-Fetch-Site). Otherwise
 *    403 csrf_failed, before any handler runs.
 *  - An API key (`Bearer elk_…` or `X-API-Key`), or a request signed with one
 *    (X-Edgelock-Signature …, src/api-keys/request-signing.ts), where a route
 *    allows it (routes that then check a permission: /admin/*).
 * Tokens in the query string are refused outright (they end up in logs, history
 * and Referer headers; RFC 6750 §5.3, RFC 9700).
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { bodySha256 } from "../api-keys/request-signing";
import { looksLikeApiKey } from "../api-keys/service";
import type { AppEnv } from "../app/app-env";
import { AuthError, invalidToken } from "../app/errors/codes";
import { timingSafeEqualStrings } from "../lib/crypto/timing-safe";
import { logEvent } from "../lib/log";
import { SESSION_COOKIE } from "../sessions/browser-sessions";
import { clearSessionCookie } from "../sessions/session-response";
import { parseAmr } from "../sessions/session-tokens";
import { readBearer } from "../verify/bearer";
import type { AccessTokenClaims } from "../verify/verifier";

export type Identity =
  | { kind: "bearer"; userId: string; sessionId: string | null; claims: AccessTokenClaims }
  | { kind: "api_key"; userId: string; sessionId: null; keyId: string; scopes: string[] }
  | {
      kind: "cookie";
      userId: string;
      sessionId: string;
      csrfToken: string;
      rememberMe: boolean;
      amr: string[];
      authTime: number;
    };

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
      throw new AuthError("token_in_query", "access tokens are accepted only in the Authorization header");
    }
    const header = c.req.header("Authorization");
    const bearer = readBearer(header);
    const apiKeyHeader = c.req.header("X-API-Key");
    const bearerKey = bearer.kind === "token" && looksLikeApiKey(bearer.token) ? bearer.token : undefined;
    const presentedKey = apiKeyHeader ?? bearerKey;
    const cookie = acceptCookie ? getCookie(c, SESSION_COOKIE) : undefined;
    const signature = c.req.header("X-Edgelock-Signature");
    if (signature !== undefined) {
      if (!options.apiKey) throw invalidToken("signed requests are not accepted here; use an access token");
      c.set("identity", await signedIdentity(c, signature));
    } else if (presentedKey !== undefined) {
      if (!options.apiKey) throw invalidToken("API keys are not accepted here; use an access token");
      c.set("identity", await apiKeyIdentity(c, presentedKey));
    } else if (header !== undefined || cookie === undefined) {
      c.set("identity", await bearerIdentity(c, bearer));
    } else {
      c.set("identity", await cookieIdentity(c, cookie));
    }
    await next();
  });
}

async function bearerIdentity(c: Context<AppEnv>, bearer: ReturnType<typeof readBearer>): Promise<Identity> {
  // No Bearer credentials at all (no header, or another scheme): RFC 6750 §3.1's bare challenge.
  if (bearer.kind === "absent") throw invalidToken("a bearer access token is required", { tokenPresent: false });
  if (bearer.kind === "malformed") throw invalidToken("the Authorization header must be 'Bearer <token>'");
  const { accessTokens, config } = c.var.services;
  const claims = await accessTokens.verify(bearer.token, Date.now());
  // A token issued to an OAuth client carries what its user delegated to that
  // client, for the client's APIs: never the user's own account, sessions or admin powers.
  if (claims.client_id !== config.accessToken.clientId) {
    throw invalidToken("this endpoint accepts only the server's own access tokens, not an OAuth client's");
  }
  return { kind: "bearer", userId: claims.sub, sessionId: typeof claims.sid === "string" ? claims.sid : null, claims };
}

async function apiKeyIdentity(c: Context<AppEnv>, presented: string): Promise<Identity> {
  const key = await c.var.services.apiKeys.authenticate(presented, c.var.ctx);
  if (!key) throw invalidToken("the API key is invalid, expired or revoked");
  return { kind: "api_key", userId: key.userId, sessionId: null, keyId: key.keyId, scopes: key.scopes };
}

async function signedIdentity(c: Context<AppEnv>, signature: string): Promise<Identity> {
  const parts = {
    method: c.req.method,
    url: c.req.url,
    timestamp: c.req.header("X-Edgelock-Timestamp") ?? "",
    nonce: c.req.header("X-Edgelock-Nonce") ?? "",
    bodySha256: await bodySha256(new Uint8Array(await c.req.arrayBuffer())),
  };
  const keyId = c.req.header("X-Edgelock-Key-Id") ?? "";
  const result = await c.var.services.apiKeys.authenticateSigned(keyId, parts, signature, c.var.ctx);
  if ("reason" in result) {
    // Logged, not audited: anyone can send these headers, and the audit log must
    // not be something an anonymous client can fill.
    logEvent("warn", "signed_request_refused", { request_id: c.var.requestId, reason: result.reason });
    throw invalidToken("the request signature is invalid, expired or replayed");
  }
  const { key } = result;
  return { kind: "api_key", userId: key.userId, sessionId: null, keyId: key.keyId, scopes: key.scopes };
}

async function cookieIdentity(c: Context<AppEnv>, cookie: string): Promise<Identity> {
  const now = Date.now();
  const { browserSessions, config } = c.var.services;
  const resolved = await browserSessions.resolve(cookie, now);
  if (!resolved) {
    clearSessionCookie(c);
    throw invalidToken("the session has ended; log in again", { tokenPresent: false });
  }
  if (!SAFE_METHODS.has(c.req.method)) {
    const allowedOrigins = [new URL(config.publicUrl).origin, ...config.corsAllowedOrigins];
    checkCsrf(c, resolved.csrfToken, allowedOrigins);
  }
  const { session } = resolved;
  if (resolved.touchDue) {
    c.var.ctx.defer(browserSessions.touch(session.id, now), "session_touch", { session_id: session.id });
  }
  return {
    kind: "cookie",
    userId: session.user_id,
    sessionId: session.id,
    csrfToken: resolved.csrfToken,
    rememberMe: session.remember_me === 1,
    amr: parseAmr(session.amr),
    authTime: session.auth_time ?? session.created_at,
  };
}

function checkCsrf(c: Context<AppEnv>, expected: string, allowedOrigins: string[]): void {
  const fail = (why: string) => {
    c.var.ctx.audit.record("csrf_failed", null, { reason: why });
    return new AuthError("csrf_failed", `cross-site request refused: ${why}`);
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

/** When the caller's session authenticated (epoch ms), as its credential says; undefined when it does not say. */
export function authTimeOf(identity: Identity): number | undefined {
  if (identity.kind === "cookie") return identity.authTime;
  if (identity.kind === "bearer" && typeof identity.claims.auth_time === "number")
    return identity.claims.auth_time * 1000;
  return undefined;
}
