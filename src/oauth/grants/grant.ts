/**
 * @module oauth/grants/grant
 * What every grant of the token endpoint is: one module per grant type,
 * registered by name (no if-chain over `grant_type`). The endpoint has
 * authenticated the client and checked that it registered the grant before
 * `handle` runs.
 */
import type { OAuthParams } from "../../app/form-body";
import type { RequestContext } from "../../app/request-context";
import type { ClientRecord } from "../clients/client-store";

/** RFC 6749 §5.1, with OpenID Connect's `id_token`. */
export interface OAuthTokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  id_token?: string;
  /** RFC 8693 §2.2.1: what a token exchange issued. */
  issued_token_type?: string;
}

export interface Grant {
  grantType: string;
  clientless?: false;
  handle(params: OAuthParams, client: ClientRecord, ctx: RequestContext): Promise<OAuthTokenResponse>;
}

/**
 * A grant whose request carries its own credential (RFC 8693's subject
 * token), so client authentication is optional: `client` is null when the
 * request names no client; a client that is named must authenticate and have
 * registered the grant.
 */
export interface ClientlessGrant {
  grantType: string;
  clientless: true;
  handle(params: OAuthParams, client: ClientRecord | null, ctx: RequestContext): Promise<OAuthTokenResponse>;
}
