/**
 * @module verify/hono
 * Hono middleware over a Verifier, for APIs that accept edgelock tokens:
 *   requireAuth({ verifier })      401 + `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750)
 *   requireScope("posts:write")    403 insufficient_scope unless the token's `scope` has it
 *   requirePermission("posts:read") 403 insufficient_scope unless `permissions` has it (wildcards like `posts:*` count)
 *   requireAuthentication({ amr: ["mfa"], maxAge: 300 })
 *                                  401 insufficient_user_authentication (RFC 9470) unless the user
 *                                  proved every listed method, within maxAge seconds
 * On success `c.var.auth` holds the verified claims. With `apiKeys`,
 * requireAuth also accepts edgelock API keys (`X-API-Key: elk_…` or
 * `Bearer elk_…`) and requests signed with one, checked over the service
 * binding; their claims have the same shape (`principal: "api_key"`).
 */
import type { Context, MiddlewareHandler } from "hono";
import { readBearer } from "./bearer.js";
import { VerifyError, type VerifyErrorCode } from "./errors.js";
import { can, type Subject } from "./policy.js";
import type { EdgelockAuthService, RpcApiKeyResult } from "./rpc.js";
import type { AccessTokenClaims, Verifier } from "./verifier.js";

export interface AuthVariables {
  auth: AccessTokenClaims;
}

export interface RequireAuthOptions extends RequireAuthenticationOptions {
  verifier: Verifier;
  /** `realm` in the challenge; default "api". */
  realm?: string | undefined;
  /** Also accept API keys and signed requests, checked by edgelock over this service binding. */
  apiKeys?: ApiKeyAcceptance | undefined;
}

export interface ApiKeyAcceptance {
  /** A service binding to edgelock's `AuthService` entrypoint. */
  service: EdgelockAuthService;
  /** This API's name in the key owner's list ("last used by"); 1–64 of A-Z a-z 0-9 . _ : / -. */
  where?: string | undefined;
  /**
   * Seconds an accepted key's answer is reused in this isolate (0 – 60;
   * default 0: every request asks). A revoked key then keeps working here for
   * at most this long. Refusals are never cached.
   */
  cacheSeconds?: number | undefined;
}

function deny(c: Context, status: 401 | 403, error: string, description: string, challenge: string): Response {
  c.header("WWW-Authenticate", challenge);
  c.header("Cache-Control", "no-store");
  return c.json({ error, error_description: description }, status);
}

type WithAuth = { Variables: AuthVariables };

/** Fixed texts: error messages from deeper down never reach the client. */
const DESCRIPTIONS: Record<Exclude<VerifyErrorCode, "jwks_unavailable">, string> = {
  invalid_token: "the access token is invalid",
  token_expired: "the access token has expired",
  token_revoked: "the access token has been revoked",
  invalid_audience: "the access token is not for this API",
  invalid_issuer: "the access token is from another issuer",
};

export function requireAuth<E extends WithAuth = WithAuth>(options: RequireAuthOptions): MiddlewareHandler<E> {
  const realm = options.realm ?? "api";
  const keys = options.apiKeys ? new ApiKeyChecker(options.apiKeys) : null;
  return async (c, next) => {
    if (keys?.wants(c)) {
      const result = await keys.check(c);
      if (!result.ok) {
        const challenge = `Bearer realm="${realm}", error="invalid_token", error_description="${result.error_description}"`;
        return deny(c, 401, "invalid_token", result.error_description, challenge);
      }
      c.set("auth", result.claims);
      const weak = denyWeakLogin(c, result.claims, options);
      if (weak) return weak;
      return next();
    }
    const bearer = readBearer(c.req.header("Authorization"));
    // Tokens in the query string are never accepted (they leak into logs and Referer headers).
    if (bearer.kind !== "token") {
      const challenge =
        bearer.kind === "malformed" ? `Bearer realm="${realm}", error="invalid_token"` : `Bearer realm="${realm}"`;
      return deny(c, 401, "invalid_token", "a bearer access token is required", challenge);
    }
    try {
      c.set("auth", await options.verifier.verify(bearer.token));
    } catch (error) {
      if (!(error instanceof VerifyError)) throw error;
      if (error.code === "jwks_unavailable") {
        // Our problem, not the token's: a 401 would make clients drop good tokens.
        c.header("Retry-After", "5");
        return c.json(
          {
            error: "temporarily_unavailable",
            error_description: "the token cannot be checked right now; try again shortly",
          },
          503,
        );
      }
      const description = DESCRIPTIONS[error.code];
      const challenge = `Bearer realm="${realm}", error="invalid_token", error_description="${description}"`;
      return deny(c, 401, "invalid_token", description, challenge);
    }
    const weak = denyWeakLogin(c, c.get("auth"), options);
    if (weak) return weak;
    await next();
  };
}

export function hasScope(claims: AccessTokenClaims, scope: string): boolean {
  return typeof claims.scope === "string" && claims.scope.split(" ").includes(scope);
}

/**
 * Whether the token grants `permission` outright. Conditional grants
 * (`posts:write@owner`) need the resource: call `can(claims, action, resource)`.
 */
export function hasPermission(claims: AccessTokenClaims, permission: string): boolean {
  return can(subjectOf(claims), permission);
}

/**
 * The policy subject of a token or key. A credential with `scope` (an OAuth
 * client's token, an API key or its exchanged token) is bound to it; a user's
 * own session token has none and acts with the user's roles and ACLs.
 */
export function subjectOf(claims: AccessTokenClaims): Subject {
  return {
    sub: claims.sub,
    roles: Array.isArray(claims.roles) ? claims.roles : [],
    permissions: Array.isArray(claims.permissions) ? claims.permissions : [],
    ...(typeof claims.scope === "string" ? { bound: claims.scope.split(" ").filter(Boolean) } : {}),
  };
}

function requireClaim<E extends WithAuth>(
  check: (claims: AccessTokenClaims) => boolean,
  needed: string,
): MiddlewareHandler<E> {
  return async (c, next) => {
    const claims = c.get("auth");
    if (!claims) throw new Error("requireScope/requirePermission must come after requireAuth");
    if (!check(claims)) {
      return deny(
        c,
        403,
        "insufficient_scope",
        `this request needs ${needed}`,
        `Bearer error="insufficient_scope", scope="${needed}"`,
      );
    }
    await next();
  };
}

export function requireScope<E extends WithAuth = WithAuth>(scope: string): MiddlewareHandler<E> {
  return requireClaim<E>((claims) => hasScope(claims, scope), scope);
}

export function requirePermission<E extends WithAuth = WithAuth>(permission: string): MiddlewareHandler<E> {
  return requireClaim<E>((claims) => hasPermission(claims, permission), permission);
}

export interface RequireAuthenticationOptions {
  /** Methods (RFC 8176 `amr` values) the user must have proved, all of them; e.g. ["mfa"]. */
  amr?: string[] | undefined;
  /** Seconds since the user last authenticated (`auth_time`) beyond which the token is not enough. */
  maxAge?: number | undefined;
}

/**
 * Step-up for sensitive routes (RFC 9470): a token whose login was too weak
 * or too old gets 401 `insufficient_user_authentication`, with `max_age` in
 * the challenge so the client knows to send the user through login again.
 * Tokens without `amr`/`auth_time` (machine tokens) never pass a requirement.
 * The same options work on `requireAuth` itself.
 */
export function requireAuthentication<E extends WithAuth = WithAuth>(
  options: RequireAuthenticationOptions,
): MiddlewareHandler<E> {
  return async (c, next) => {
    const claims = c.get("auth");
    if (!claims) throw new Error("requireAuthentication must come after requireAuth");
    const weak = denyWeakLogin(c, claims, options);
    if (weak) return weak;
    await next();
  };
}

/** The RFC 9470 answer when the login behind `claims` falls short of `options`; null when it does not. */
function denyWeakLogin(c: Context, claims: AccessTokenClaims, options: RequireAuthenticationOptions): Response | null {
  const proved = Array.isArray(claims.amr) ? claims.amr : [];
  const missing = (options.amr ?? []).filter((method) => !proved.includes(method));
  const tooOld =
    options.maxAge !== undefined &&
    (typeof claims.auth_time !== "number" || Date.now() / 1000 - claims.auth_time > options.maxAge);
  if (missing.length === 0 && !tooOld) return null;
  const description =
    missing.length > 0
      ? `this request needs a login with ${missing.join(", ")}`
      : "this request needs a more recent login";
  const maxAge = options.maxAge !== undefined ? `, max_age=${options.maxAge}` : "";
  const challenge = `Bearer error="insufficient_user_authentication", error_description="${description}"${maxAge}`;
  return deny(c, 401, "insufficient_user_authentication", description, challenge);
}

const MAX_CACHE_SECONDS = 60;
const MAX_CACHED_KEYS = 1000;

/** API keys and signed requests, checked over RPC, with an optional short cache of accepted keys. */
class ApiKeyChecker {
  readonly #o: ApiKeyAcceptance;
  readonly #cacheMs: number;
  readonly #accepted = new Map<string, { result: RpcApiKeyResult; until: number }>();

  constructor(options: ApiKeyAcceptance) {
    this.#o = options;
    this.#cacheMs = Math.max(0, Math.min(options.cacheSeconds ?? 0, MAX_CACHE_SECONDS)) * 1000;
  }

  wants(c: Context): boolean {
    if (c.req.header("X-Edgelock-Signature") !== undefined || c.req.header("X-API-Key") !== undefined) return true;
    return /^Bearer elk_/i.test(c.req.header("Authorization") ?? "");
  }

  async check(c: Context): Promise<RpcApiKeyResult> {
    const where = this.#o.where === undefined ? {} : { where: this.#o.where };
    if (c.req.header("X-Edgelock-Signature") !== undefined) {
      const body = new Uint8Array(await c.req.arrayBuffer());
      return this.#o.service.verifySignedRequest({
        method: c.req.method,
        url: c.req.url,
        headers: Object.fromEntries(c.req.raw.headers),
        bodySha256: await sha256Hex(body),
        ...where,
      });
    }
    const key = c.req.header("X-API-Key") ?? (c.req.header("Authorization") ?? "").replace(/^Bearer /i, "");
    if (this.#cacheMs === 0) return this.#o.service.verifyApiKey(key, where);
    // Keyed by the key's hash: the cache never holds a usable secret.
    const id = await sha256Hex(new TextEncoder().encode(key) as Uint8Array<ArrayBuffer>);
    const now = Date.now();
    const hit = this.#accepted.get(id);
    if (hit && hit.until > now) return hit.result;
    const result = await this.#o.service.verifyApiKey(key, where);
    this.#accepted.delete(id);
    if (result.ok) {
      if (this.#accepted.size >= MAX_CACHED_KEYS) this.#accepted.delete(this.#accepted.keys().next().value as string);
      this.#accepted.set(id, { result, until: Math.min(now + this.#cacheMs, result.claims.exp * 1000) });
    }
    return result;
  }
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
