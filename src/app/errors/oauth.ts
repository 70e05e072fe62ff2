/**
 * @module app/errors/oauth
 * The two OAuth surfaces' renderers.
 *  - Token endpoint (RFC 6749 §5.2, RFC 8628 §3.5): JSON with one of the RFCs' codes,
 *    `Cache-Control: no-store`; `invalid_client` is 401 with a `Basic` challenge.
 *  - Authorization endpoint (RFC 6749 §4.1.2.1, RFC 9207): a redirect to the
 *    client with `error`, `state` and `iss`, but only once the client and its
 *    redirect URI are validated; without that context the error is shown on a
 *    local page and the browser is never sent anywhere.
 */
import { AuthError, type AuthorizeRedirectContext, type ErrorCode, wireError } from "./codes";

export type { AuthorizeRedirectContext };

import { renderError } from "./render";

/** The codes RFC 6749 §5.2 allows from the token endpoint; others are mapped onto these. */
const TOKEN_ENDPOINT_CODES = new Set<string>([
  "invalid_request",
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope",
  "invalid_target",
  // RFC 8628 §3.5: a device code poll's answers.
  "authorization_pending",
  "slow_down",
  "access_denied",
  "expired_token",
]);

/** The codes RFC 6749 §4.1.2.1 and OIDC Core §3.1.2.6 allow in an authorization error redirect. */
const AUTHORIZE_CODES = new Set<string>([
  "invalid_request",
  "unauthorized_client",
  "access_denied",
  "unsupported_response_type",
  "invalid_scope",
  "server_error",
  "temporarily_unavailable",
  "login_required",
  "consent_required",
  "interaction_required",
  "request_not_supported",
  "request_uri_not_supported",
  "invalid_target",
]);

export interface TokenErrorResponse {
  status: number;
  body: { error: string; error_description: string };
  headers: Record<string, string>;
}

/** RFC 6749 §5.2: what the token endpoint answers for `error`. */
export function renderTokenError(error: unknown, requestId?: string): TokenErrorResponse {
  const rendered = renderError(error, requestId);
  const headers: Record<string, string> = { "Cache-Control": "no-store", Pragma: "no-cache" };
  if (rendered.headers["Retry-After"]) headers["Retry-After"] = rendered.headers["Retry-After"];
  const { error: code, error_description } = rendered.body;
  if (code === "invalid_client") {
    // §5.2: a failed client authentication is 401 with the scheme the client can use.
    headers["WWW-Authenticate"] = 'Basic realm="edgelock"';
    return { status: 401, body: rendered.body, headers };
  }
  if (TOKEN_ENDPOINT_CODES.has(code)) return { status: 400, body: rendered.body, headers };
  if (rendered.status >= 500 || rendered.status === 429) {
    // Outages and limits keep their status; the body says what happened without internals.
    return { status: rendered.status, body: rendered.body, headers };
  }
  // Any other refusal of the request itself (a bad body, a wrong content type) is invalid_request.
  return { status: 400, body: { error: "invalid_request", error_description }, headers };
}

export type AuthorizeErrorOutcome =
  | { kind: "redirect"; location: string }
  | { kind: "page"; status: number; code: string; description: string };

/**
 * An authorization endpoint error: a redirect carrying `error`, `error_description`,
 * `state` and `iss` when `context` is known, else a local page.
 */
export function renderAuthorizeError(error: unknown, context: AuthorizeRedirectContext | null): AuthorizeErrorOutcome {
  const description = error instanceof AuthError ? error.description : "an unexpected error occurred";
  if (!context) {
    // No validated redirect URI: sending the browser anywhere would make us an open redirector.
    const rendered = renderError(error, undefined);
    // A page has no use for 401 (there is no challenge to answer); other statuses say what happened.
    const status = rendered.status === 401 ? 400 : rendered.status;
    return { kind: "page", status, code: rendered.body.error, description: rendered.body.error_description };
  }
  const code = authorizeCode(error);
  const url = new URL(context.redirectUri);
  url.searchParams.set("error", code);
  url.searchParams.set("error_description", description);
  if (context.state !== null) url.searchParams.set("state", context.state);
  url.searchParams.set("iss", context.issuer);
  return { kind: "redirect", location: url.toString() };
}

function authorizeCode(error: unknown): string {
  if (!(error instanceof AuthError)) return "server_error";
  const wire = wireError(error.code as ErrorCode);
  if (AUTHORIZE_CODES.has(wire)) return wire;
  if (error.code === "temporarily_unavailable" || error.code === "too_many_requests") return "temporarily_unavailable";
  return error.code === "server_error" || error.code === "server_misconfigured" ? "server_error" : "invalid_request";
}
