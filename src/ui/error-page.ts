/**
 * @module ui/error-page
 * The page an HTML surface shows when a request fails: the title, the
 * description and the error code, no script, nothing external.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { escapeHtml } from "../lib/html";
import { setStrictPageHeaders } from "./strict-page";

export interface ErrorPageContent {
  title: string;
  code: string;
  description: string;
}

export function errorPage(c: Context, status: ContentfulStatusCode, content: ErrorPageContent): Response {
  setStrictPageHeaders(c, null);
  return c.html(
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(content.title)}</title></head>
<body><main><h1>${escapeHtml(content.title)}</h1><p>${escapeHtml(content.description)}</p>
<p><small>Error: <code>${escapeHtml(content.code)}</code></small></p></main></body></html>`,
    status,
  );
}
