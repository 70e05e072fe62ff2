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

export interface PagePolicy {
  /** The page's one inline script, allowed by its hash. */
  script?: string;
  /** The page's one inline style sheet, allowed by its hash. */
  style?: string;
  /**
   * Where its forms may go: 'self', plus the origin a form's answer redirects
   * to (Chromium applies form-action to the redirect after a POST).
   */
  formAction?: string[];
}

/** Headers for a hosted page with an inline style sheet and forms (login, consent). */
export async function setPageHeaders(c: Context, policy: PagePolicy): Promise<void> {
  const scriptSrc = policy.script ? `'sha256-${await scriptHash(policy.script)}'` : "'none'";
  const styleSrc = policy.style ? `'sha256-${await scriptHash(policy.style)}'` : "'none'";
  const formAction = policy.formAction?.length ? policy.formAction.join(" ") : "'none'";
  c.header(
    "Content-Security-Policy",
    `default-src 'none'; script-src ${scriptSrc}; style-src ${styleSrc}; img-src 'self' https: data:; connect-src 'self'; base-uri 'none'; form-action ${formAction}; frame-ancestors 'none'`,
  );
  c.header("Cache-Control", "no-store");
  c.header("Referrer-Policy", "no-referrer");
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
