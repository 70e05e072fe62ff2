/**
 * @module oauth/client-credentials
 * What a request presents to authenticate its client (RFC 6749 §2.3.1):
 * HTTP Basic with the form-encoded id and secret, or `client_id` and
 * `client_secret` in the body, or `client_id` alone for a public client.
 * Using two methods at once is invalid_request (§2.3).
 */
import { AuthError, invalidRequest } from "../app/errors/codes";
import type { OAuthParams } from "../app/form-body";
import type { ClientAuthMethod } from "./clients/client-metadata";

export interface ClientCredentials {
  clientId: string;
  secret: string | null;
  method: ClientAuthMethod;
}

const MAX_CREDENTIAL_LENGTH = 512;

function invalidClient(description: string): AuthError {
  return new AuthError("invalid_client", description);
}

/** The credentials of the request, or invalid_client when there are none. */
export function clientCredentials(authorization: string | undefined, params: OAuthParams): ClientCredentials {
  const basic = authorization === undefined ? null : parseBasic(authorization);
  const bodyId = params.get("client_id");
  const bodySecret = params.get("client_secret");
  if (basic) {
    if (bodySecret !== undefined) throw invalidRequest("use one client authentication method, not two");
    if (bodyId !== undefined && bodyId !== basic.clientId)
      throw invalidRequest("client_id differs from the Basic credentials");
    return { ...basic, method: "client_secret_basic" };
  }
  if (bodyId === undefined) throw invalidClient("the client must authenticate (HTTP Basic, or client_id in the body)");
  if (bodyId.length > MAX_CREDENTIAL_LENGTH || (bodySecret?.length ?? 0) > MAX_CREDENTIAL_LENGTH) {
    throw invalidClient("client authentication failed");
  }
  if (bodySecret !== undefined) return { clientId: bodyId, secret: bodySecret, method: "client_secret_post" };
  return { clientId: bodyId, secret: null, method: "none" };
}

/** `Basic base64(urlencode(id) ":" urlencode(secret))`; another scheme is no Basic credentials. */
function parseBasic(header: string): { clientId: string; secret: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match?.[1]) {
    if (/^Basic(\s|$)/i.test(header)) throw invalidClient("the Basic credentials are malformed");
    return null;
  }
  let decoded: string;
  try {
    decoded = atob(match[1]);
  } catch {
    throw invalidClient("the Basic credentials are malformed");
  }
  const colon = decoded.indexOf(":");
  if (colon < 0 || decoded.length > MAX_CREDENTIAL_LENGTH * 3)
    throw invalidClient("the Basic credentials are malformed");
  try {
    return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw invalidClient("the Basic credentials are malformed");
  }
}

/** application/x-www-form-urlencoded decoding of one value (RFC 6749 §2.3.1, Appendix B). */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, " "));
}
