/**
 * @module oauth/token-endpoint
 * `TokenEndpoint` (RFC 6749 §3.2): finds the grant for `grant_type` in the
 * registry, authenticates the client, checks that the client registered that
 * grant, and lets the grant answer. Checks run in that order so an unknown
 * grant type says so before any credential is looked at.
 */
import { AuthError } from "../app/errors/codes";
import type { OAuthParams } from "../app/form-body";
import type { RequestContext } from "../app/request-context";
import type { ClientAuthentication } from "./client-authentication";
import { clientCredentials } from "./client-credentials";
import type { ClientlessGrant, Grant, OAuthTokenResponse } from "./grants/grant";

export interface TokenEndpointOptions {
  grants: (Grant | ClientlessGrant)[];
  authentication: ClientAuthentication;
}

export class TokenEndpoint {
  readonly #grants: Map<string, Grant | ClientlessGrant>;
  readonly #authentication: ClientAuthentication;

  constructor(options: TokenEndpointOptions) {
    this.#grants = new Map(options.grants.map((grant) => [grant.grantType, grant]));
    this.#authentication = options.authentication;
  }

  get grantTypes(): string[] {
    return [...this.#grants.keys()];
  }

  async exchange(
    authorization: string | undefined,
    params: OAuthParams,
    ctx: RequestContext,
  ): Promise<OAuthTokenResponse> {
    const grantType = params.require("grant_type");
    const grant = this.#grants.get(grantType);
    if (!grant) throw new AuthError("unsupported_grant_type", `grant_type ${grantType} is not supported`);
    const namesClient = authorization !== undefined || params.get("client_id") !== undefined;
    if (grant.clientless && !namesClient) return grant.handle(params, null, ctx);
    const client = await this.#authentication.authenticate(clientCredentials(authorization, params), ctx);
    if (!(client.grantTypes as string[]).includes(grantType)) {
      throw new AuthError("unauthorized_client", `the client is not registered for ${grantType}`);
    }
    return grant.handle(params, client, ctx);
  }
}
