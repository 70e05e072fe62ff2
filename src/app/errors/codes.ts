/**
 * @module app/errors/codes
 * The one error taxonomy. Code below the routes throws an AuthError with a
 * stable `code` and a description; it never picks an HTTP status. ERRORS is the
 * one table from code to status and wire error name (RFC 6749 / RFC 6750 names
 * where an RFC defines one); the renderers (render.ts, oauth.ts, html.ts) are
 * the only places that turn an error into a response.
 */

interface ErrorSpec {
  status: number;
  /** The `error` sent on the wire when it differs from the code. */
  wire?: string;
  /** Answered with a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3). */
  bearerChallenge?: true;
  /** Answered with `Retry-After` (seconds; the error's own value, else this default). */
  retryAfterSeconds?: number;
  /** Fixed headers the answer carries. */
  headers?: Record<string, string>;
}

export const ERRORS = {
  invalid_request: { status: 400 },
  /** A body over the size cap (RFC 9110 §15.5.14); the wire error stays invalid_request. */
  body_too_large: { status: 413, wire: "invalid_request" },
  /** A body in a media type the endpoint does not take (RFC 9110 §15.5.16); Accept-Post names the one it does. */
  unsupported_media_type: { status: 415, wire: "invalid_request", headers: { "Accept-Post": "application/json" } },
  /** An access token in the query string (RFC 6750 §5.3 forbids it). */
  token_in_query: { status: 400, wire: "invalid_request", bearerChallenge: true },
  /** Two writers raced on one record; the caller may retry. */
  conflict: { status: 409, wire: "invalid_request" },
  invalid_grant: { status: 400 },
  invalid_token: { status: 401, bearerChallenge: true },
  invalid_credentials: { status: 401 },
  /** A wrong current password while signed in: the caller is known, so 403, not 401. */
  wrong_password: { status: 403, wire: "invalid_credentials" },
  email_not_verified: { status: 403 },
  email_taken: { status: 409 },
  weak_password: { status: 400 },
  too_many_requests: { status: 429, retryAfterSeconds: 1 },
  captcha_required: { status: 401 },
  csrf_failed: { status: 403 },
  /** RFC 6750 §3.1: the token lacks a scope; the challenge says so. */
  insufficient_scope: { status: 403, bearerChallenge: true },
  /** A second factor is needed (login: answered with an mfa_token; step-up: send `code` with the request). */
  mfa_required: { status: 401 },
  /** A wrong second factor while signed in (step-up): the caller is known, so 403. */
  wrong_second_factor: { status: 403, wire: "invalid_credentials" },
  /** RFC 9470: the caller must authenticate again (more recently) before this request. */
  insufficient_user_authentication: { status: 401, bearerChallenge: true },
  not_found: { status: 404 },
  /** A known path with another method (RFC 9110 §15.5.6); the route answers with `Allow`. */
  method_not_allowed: { status: 405 },
  temporarily_unavailable: { status: 503, retryAfterSeconds: 5 },
  server_misconfigured: { status: 500 },
  server_error: { status: 500 },
  // RFC 6749 §4.1.2.1 and §5.2, for the OAuth endpoints.
  invalid_client: { status: 401 },
  unauthorized_client: { status: 400 },
  unsupported_grant_type: { status: 400 },
  unsupported_response_type: { status: 400 },
  invalid_scope: { status: 400 },
  access_denied: { status: 403 },
  // OpenID Connect Core §3.1.2.6.
  login_required: { status: 400 },
  consent_required: { status: 400 },
  interaction_required: { status: 400 },
  request_not_supported: { status: 400 },
  request_uri_not_supported: { status: 400 },
  // RFC 7591 §3.2.2, for client registration (and the admin API's client metadata).
  invalid_redirect_uri: { status: 400 },
  invalid_client_metadata: { status: 400 },
  /** RFC 7009 §2.2.1: a revocation request for a token type the server cannot revoke. */
  unsupported_token_type: { status: 400 },
  /** RFC 8707 §2: a `resource` the client may not have tokens for. */
  invalid_target: { status: 400 },
  // RFC 8628 §3.5, for the device code grant's polls.
  authorization_pending: { status: 400 },
  slow_down: { status: 400 },
  expired_token: { status: 400 },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export function errorSpec(code: ErrorCode): ErrorSpec {
  return ERRORS[code];
}

/** The `error` member a client sees for `code`. */
export function wireError(code: ErrorCode): string {
  const spec: ErrorSpec = ERRORS[code];
  return spec.wire ?? code;
}

export interface AuthErrorOptions {
  /** Logged, never sent. */
  cause?: unknown;
  /** How long the client should wait, for codes answered with Retry-After. */
  retryAfterSeconds?: number;
  /** False when no credential was presented at all: RFC 6750 §3.1's bare challenge. */
  tokenPresent?: boolean;
  /** Extra auth-params for the Bearer challenge, e.g. RFC 9470's `max_age`. */
  challenge?: Record<string, string>;
}

export class AuthError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;
  readonly tokenPresent: boolean;
  readonly challenge: Record<string, string>;

  constructor(code: ErrorCode, description: string, options: AuthErrorOptions = {}) {
    super(description, { cause: options.cause });
    this.name = "AuthError";
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.tokenPresent = options.tokenPresent ?? true;
    this.challenge = options.challenge ?? {};
  }

  get description(): string {
    return this.message;
  }
}

/** Where an authorization error may be sent: known only after client and redirect URI are validated. */
export interface AuthorizeRedirectContext {
  redirectUri: string;
  state: string | null;
  issuer: string;
}

/** A store's dependency (D1, KV, a Durable Object, an outbound service) cannot be reached. */
export class Unavailable extends AuthError {
  constructor(description: string, cause?: unknown) {
    super("temporarily_unavailable", description, { cause });
    this.name = "Unavailable";
  }
}

/** Settings that fail validation; rendered as 500 server_misconfigured naming them (never their values). */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`edgelock is misconfigured: ${problems.join("; ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export function invalidRequest(description: string): AuthError {
  return new AuthError("invalid_request", description);
}

/** RFC 6749 §5.2: an invalid, expired, revoked or reused grant (refresh token, verification code). */
export function invalidGrant(description: string): AuthError {
  return new AuthError("invalid_grant", description);
}

/** RFC 6750 §3: a bearer token that is missing, malformed, expired or revoked. */
export function invalidToken(description: string, options: { tokenPresent?: boolean } = {}): AuthError {
  return new AuthError("invalid_token", description, options);
}

/** The one login failure answer: unknown email, wrong password and disabled account look the same. */
export function invalidCredentials(): AuthError {
  return new AuthError("invalid_credentials", "The email or password is incorrect.");
}

export function notFound(description: string): AuthError {
  return new AuthError("not_found", description);
}

export function insufficientScope(description: string): AuthError {
  return new AuthError("insufficient_scope", description);
}

export function tooManyRequests(retryAfterMs: number): AuthError {
  const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new AuthError("too_many_requests", "too many attempts; try again later", { retryAfterSeconds });
}
