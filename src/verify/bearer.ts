/**
 * @module verify/bearer
 * Reading a bearer token from an `Authorization` header (RFC 6750 §2.1):
 * the scheme, case-insensitive, then a b64token (RFC 6750 §2.1's token68).
 */

const BEARER_SCHEME = /^Bearer(\s|$)/i;
const BEARER_CREDENTIALS = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export type BearerHeader =
  /** No Bearer credentials at all: no header, or another scheme. */
  | { kind: "absent" }
  /** The Bearer scheme with something that is not a well-formed token. */
  | { kind: "malformed" }
  | { kind: "token"; token: string };

export function readBearer(header: string | undefined | null): BearerHeader {
  if (!header || !BEARER_SCHEME.test(header)) return { kind: "absent" };
  const token = BEARER_CREDENTIALS.exec(header)?.[1];
  return token ? { kind: "token", token } : { kind: "malformed" };
}
