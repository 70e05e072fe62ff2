/**
 * @module errors
 * The one error taxonomy. Services and routes throw an AuthError with a stable
 * wire `code` (RFC 6749 / RFC 6750 names where an RFC defines one) and an HTTP
 * status; the app's error handler is the only place that turns it into JSON.
 */

export type ErrorCode =
  | "invalid_request"
  | "invalid_grant"
  | "invalid_token"
  | "invalid_credentials"
  | "email_not_verified"
  | "email_taken"
  | "weak_password"
  | "too_many_requests"
  | "captcha_required"
  | "csrf_failed"
  | "insufficient_scope"
  | "temporarily_unavailable"
  | "not_found"
  | "method_not_allowed"
  | "server_misconfigured"
  | "server_error";

export interface AuthErrorOptions {
  /** Extra response headers, e.g. `WWW-Authenticate` for RFC 6750 challenges. */
  headers?: Record<string, string>;
  /** Logged, never sent. */
  cause?: unknown;
}

export class AuthError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(status: number, code: ErrorCode, description: string, options: AuthErrorOptions = {}) {
    super(description, { cause: options.cause });
    this.name = "AuthError";
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
  }

  get description(): string {
    return this.message;
  }
}

export function invalidRequest(description: string): AuthError {
  return new AuthError(400, "invalid_request", description);
}

/** RFC 6749 §5.2: an invalid, expired, revoked or reused grant (refresh token, verification code). */
export function invalidGrant(description: string): AuthError {
  return new AuthError(400, "invalid_grant", description);
}

/**
 * RFC 6750 §3: a bearer token that is missing, malformed, expired or revoked.
 * With no token at all the challenge carries no error code (§3.1).
 */
export function invalidToken(description: string, options: { tokenPresent?: boolean } = {}): AuthError {
  const challenge =
    options.tokenPresent === false
      ? 'Bearer realm="edgelock"'
      : `Bearer realm="edgelock", error="invalid_token", error_description="${description.replace(/"/g, "'")}"`;
  return new AuthError(401, "invalid_token", description, { headers: { "WWW-Authenticate": challenge } });
}

/** The one login failure answer: unknown email, wrong password and disabled account look the same. */
export function invalidCredentials(): AuthError {
  return new AuthError(401, "invalid_credentials", "The email or password is incorrect.");
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`edgelock is misconfigured: ${problems.join("; ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}
