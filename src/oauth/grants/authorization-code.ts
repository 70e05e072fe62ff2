/**
 * @module oauth/grants/authorization-code
 * `authorization_code` (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3, OIDC Core §3.1.3):
 * exchanges a code for tokens. The code's binding is checked before it is
 * spent (client, redirect URI, PKCE verifier; a verifier without a challenge
 * is refused, RFC 9700 §2.1.1), and a code that fails a check is burnt. A
 * code presented again after it was redeemed revokes every token issued from
 * it (RFC 6749 §4.1.2). The tokens are the user grant's (user-grant-tokens.ts):
 * the consent must still stand, the scopes are cut to what is still delegable.
 */
import { invalidGrant } from "../../app/errors/codes";
import type { OAuthParams } from "../../app/form-body";
import type { AuthorizationCodes, CodeGrant } from "../authorization-codes";
import type { ClientRecord } from "../clients/client-store";
import { verifierMatches } from "../pkce";
import type { Grant } from "./grant";
import { issueUserGrantTokens, type UserGrantTokensOptions } from "./user-grant-tokens";

export interface AuthorizationCodeGrantOptions extends UserGrantTokensOptions {
  codes: AuthorizationCodes;
  /** Ends the grant's refresh family and every access token carrying its `sid`. */
  revokeGrant: (grantId: string, userId: string, now: number) => Promise<void>;
}

const MAX_CODE_LENGTH = 512;

export function authorizationCodeGrant(o: AuthorizationCodeGrantOptions): Grant {
  return {
    grantType: "authorization_code",
    async handle(params, client, ctx) {
      const code = params.require("code");
      if (code.length > MAX_CODE_LENGTH) throw invalidGrant("the authorization code is invalid");
      const peeked = await o.codes.peek(code, ctx.now);
      if (peeked && !(await bindingHolds(peeked, params, client))) {
        await o.codes.redeem(code, ctx.now);
        throw invalidGrant("the authorization code was issued to another client, redirect URI or verifier");
      }
      const redemption = await o.codes.redeem(code, ctx.now);
      if (redemption.kind === "replayed") {
        const { grant } = redemption;
        await o.revokeGrant(grant.grantId, grant.userId, ctx.now);
        ctx.audit.record(
          "oauth_code_replayed",
          grant.userId,
          { client_id: grant.clientId, grant_id: grant.grantId },
          ctx.now,
        );
        throw invalidGrant("the authorization code has already been used");
      }
      if (redemption.kind === "unknown") throw invalidGrant("the authorization code is invalid or expired");
      return issueUserGrantTokens(o, redemption.grant, client, ctx, "authorization code");
    },
  };
}

async function bindingHolds(grant: CodeGrant, params: OAuthParams, client: ClientRecord): Promise<boolean> {
  if (grant.clientId !== client.id) return false;
  const redirectUri = params.get("redirect_uri");
  if (redirectUri !== undefined ? redirectUri !== grant.redirectUri : grant.redirectUriGiven) return false;
  const verifier = params.get("code_verifier");
  if (grant.codeChallenge === null) return verifier === undefined;
  return verifier !== undefined && (await verifierMatches(verifier, grant.codeChallenge));
}
