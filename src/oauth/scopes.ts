/**
 * @module oauth/scopes
 * OAuth scopes (RFC 6749 §3.3): a space-separated set of tokens. The OpenID
 * Connect scopes, and permission names (`resource:action`, the same names
 * roles grant) that a client may ask a user to delegate.
 */
import { invalidRequest } from "../app/errors/codes";

export const OPENID_SCOPES = ["openid", "profile", "email", "offline_access"] as const;

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
/** A permission that may be delegated: `resource:action`, no wildcard or condition. */
const PERMISSION_SCOPE = /^[a-z][a-z0-9_-]{0,63}:[a-z][a-z0-9_-]{0,63}$/;
const MAX_SCOPES = 64;

export function isOpenIdScope(scope: string): boolean {
  return (OPENID_SCOPES as readonly string[]).includes(scope);
}

export function isPermissionScope(scope: string): boolean {
  return PERMISSION_SCOPE.test(scope);
}

/** A scope a client may be registered for: an OpenID Connect scope or a permission name. */
export function isKnownScope(scope: string): boolean {
  return isOpenIdScope(scope) || isPermissionScope(scope);
}

/** The scope parameter as a list (duplicates dropped, order kept); absent or empty is no scope. */
export function parseScope(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  const scopes = raw.split(" ").filter((s) => s !== "");
  if (scopes.length > MAX_SCOPES) throw invalidRequest(`scope: at most ${MAX_SCOPES} values`);
  for (const scope of scopes) {
    if (!SCOPE_TOKEN.test(scope)) throw invalidRequest("scope: contains characters RFC 6749 §3.3 does not allow");
  }
  return [...new Set(scopes)];
}

export function formatScope(scopes: readonly string[]): string {
  return scopes.join(" ");
}

/** Whether every scope of `wanted` is in `held`. */
export function withinScopes(wanted: readonly string[], held: readonly string[]): boolean {
  const allowed = new Set(held);
  return wanted.every((scope) => allowed.has(scope));
}
