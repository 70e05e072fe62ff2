/**
 * @module app/same-origin
 * Whether a form POST to a hosted page came from one of our own pages. The
 * Origin must be ours; with `Referrer-Policy: no-referrer` Chromium sends
 * `Origin: null` on same-origin form posts, so then (or with no Origin at
 * all) `Sec-Fetch-Site: same-origin` must say so.
 */
import type { Context } from "hono";

export function isSameOriginPost(c: Context, publicUrl: string): boolean {
  const origin = c.req.header("Origin");
  if (origin !== undefined && origin !== "null") return origin === new URL(publicUrl).origin;
  return c.req.header("Sec-Fetch-Site") === "same-origin";
}
