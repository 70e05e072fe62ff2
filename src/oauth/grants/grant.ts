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
}

export interface Grant {
  grantType: string;
  handle(params: OAuthParams, client: ClientRecord, ctx: RequestContext): Promise<OAuthTokenResponse>;
}
