/**
 * @module ui/strict-page
 * What every HTML page of ours shares: a CSP that lets at most one inline
 * script run (by its hash), talk only to our own origin, and be framed by
 * nobody; no caching; (escaping lives in lib/html).
 */
import type { Context } from "hono";

/** The SHA-256 of every page script, computed once per isolate (the scripts are constants). */
const scriptHashes = new Map<string, Promise<string>>();

function scriptHash(script: string): Promise<string> {
  let hash = scriptHashes.get(script);
  if (!hash) {
    hash = crypto.subtle
      .digest("SHA-256", new TextEncoder().encode(script))
      .then((digest) => btoa(String.fromCharCode(...new Uint8Array(digest))));
    scriptHashes.set(script, hash);
  }
  return hash;
}

/** Headers for a page with one inline script (`script`), or with none (`null`). */
export function setStrictPageHeaders(c: Context, script: null): void;
export function setStrictPageHeaders(c: Context, script: string): Promise<void>;
export function setStrictPageHeaders(c: Context, script: string | null): Promise<void> | void {
  const apply = (scriptSrc: string) => {
    c.header(
      "Content-Security-Policy",
      `default-src 'none'; script-src ${scriptSrc}; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    );
    c.header("Cache-Control", "no-store");
  };
  if (script === null) return apply("'none'");
  return scriptHash(script).then((hash) => apply(`'sha256-${hash}'`));
}
