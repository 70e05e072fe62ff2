/**
 * @module ui/strict-page
 * Headers for our small HTML pages: a CSP that lets exactly one inline script
 * run (by its hash), talk only to our own origin, and be framed by nobody; and
 * no caching.
 */
import type { Context } from "hono";

export async function setStrictPageHeaders(c: Context, script: string): Promise<void> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(script));
  const hash = btoa(String.fromCharCode(...new Uint8Array(digest)));
  c.header(
    "Content-Security-Policy",
    `default-src 'none'; script-src 'sha256-${hash}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  );
  c.header("Cache-Control", "no-store");
}
