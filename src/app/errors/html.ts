/**
 * @module app/errors/html
 * The HTML pages' renderer: an error becomes a small page with the status the
 * code's row in ERRORS asks for, a title in words and the description; causes
 * are logged, never shown.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { errorPage } from "../../ui/error-page";
import { renderError } from "./render";

const TITLES: Record<string, string> = {
  invalid_request: "This request cannot be handled",
  invalid_client: "Unknown application",
  invalid_grant: "This link is invalid or expired",
  access_denied: "Access denied",
  csrf_failed: "This form has expired",
  too_many_requests: "Too many attempts",
  temporarily_unavailable: "Temporarily unavailable",
  not_found: "Not found",
};

export function renderHtmlError(error: unknown, c: Context): Response {
  const rendered = renderError(error, c.get("requestId"));
  const { error: code, error_description } = rendered.body;
  const title = TITLES[code] ?? (rendered.status >= 500 ? "Something went wrong" : "This request cannot be handled");
  for (const [name, value] of Object.entries(rendered.headers)) c.header(name, value);
  return errorPage(c, rendered.status as ContentfulStatusCode, { title, code, description: error_description });
}
