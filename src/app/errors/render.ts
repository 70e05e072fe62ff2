/**
 * @module app/errors/render
 * The JSON API's renderer: every failure becomes {"error", "error_description"}
 * with the status and headers the code's row in ERRORS asks for. Unknown errors
 * become 500 server_error with the cause logged under the request id, never echoed.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { logEvent } from "../../lib/log";
import { AuthError, ConfigError, errorSpec, wireError } from "./codes";

export interface RenderedError {
  status: number;
  body: { error: string; error_description: string };
  headers: Record<string, string>;
}

/** A Bearer challenge (RFC 6750 §3): bare when no credential was presented (§3.1). */
export function bearerChallenge(
  error: string,
  description: string,
  tokenPresent: boolean,
  params: Record<string, string> = {},
): string {
  if (!tokenPresent) return 'Bearer realm="edgelock"';
  const attributes = [`error="${error}"`];
  if (error === "invalid_token") attributes.push(`error_description="${description.replace(/["\\]/g, "'")}"`);
  for (const [name, value] of Object.entries(params)) attributes.push(`${name}="${value.replace(/["\\]/g, "'")}"`);
  return `Bearer realm="edgelock", ${attributes.join(", ")}`;
}

/** Status, body and headers for any thrown value; logs what must not reach the client. */
export function renderError(error: unknown, requestId: string | undefined): RenderedError {
  if (error instanceof AuthError) {
    const spec = errorSpec(error.code);
    const wire = wireError(error.code);
    const headers: Record<string, string> = { ...spec.headers };
    if (spec.bearerChallenge) {
      headers["WWW-Authenticate"] = bearerChallenge(wire, error.description, error.tokenPresent, error.challenge);
    }
    const retryAfter = error.retryAfterSeconds ?? spec.retryAfterSeconds;
    if (retryAfter !== undefined) headers["Retry-After"] = String(retryAfter);
    if (spec.status >= 500) logEvent("error", error.code, { request_id: requestId, cause: String(error.cause) });
    return { status: spec.status, body: { error: wire, error_description: error.description }, headers };
  }
  if (error instanceof ConfigError) {
    logEvent("error", "server_misconfigured", { request_id: requestId, problems: error.problems });
    const names = error.problems.map((problem) => problem.split(" ")[0]).join(", ");
    const body = { error: "server_misconfigured", error_description: `the server is misconfigured: ${names}` };
    return { status: 500, body, headers: {} };
  }
  if (error instanceof HTTPException && error.status < 500) {
    const body = { error: "invalid_request", error_description: error.message || "bad request" };
    return { status: error.status, body, headers: {} };
  }
  // Anything else is a bug or an outage: log the cause, never echo it.
  logEvent("error", "unhandled_error", {
    request_id: requestId,
    error: String(error),
    stack: error instanceof Error ? error.stack : undefined,
  });
  return {
    status: 500,
    body: { error: "server_error", error_description: "an unexpected error occurred" },
    headers: {},
  };
}

/** The app's error handler for JSON routes. */
export function renderJsonError(error: unknown, c: Context): Response {
  const rendered = renderError(error, c.get("requestId"));
  return c.json(rendered.body, rendered.status as ContentfulStatusCode, rendered.headers);
}
