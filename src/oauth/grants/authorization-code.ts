/**
 * @module oauth/grants/authorization-code
 * `authorization_code` (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3, OIDC Core §3.1.3):
 * exchanges a code for tokens. The code's binding is checked before it is
 * spent (client, redirect URI, PKCE verifier; a verifier without a challenge
 * is refused, RFC 9700 §2.1.1), and a code that fails a check is burnt. A
 * code presented again after it was redeemed revokes every token issued from
 * it (RFC 6749 §4.1.2). The consent must still stand, and the scopes are cut
 * to what is still delegable. Refresh tokens come with `offline_access`, or
 * for plain OAuth requests (no `openid`), when the client registered the grant.
 */
import { invalidGrant } from "../../app/errors/codes";
import type { OAuthParams } from "../../app/form-body";
import type { RequestContext } from "../../app/request-context";
import type { RoleService } from "../../authz/roles";
import type { UserService } from "../../identity/users";
import type { RefreshSessions } from "../../sessions/refresh-sessions";
import type { SessionRef, SessionTokens } from "../../sessions/session-tokens";
import type { AuthorizationCodes, CodeGrant } from "../authorization-codes";
import type { ClientRecord } from "../clients/client-store";
import type { Consents } from "../consents";
import { delegableScopes } from "../delegable-scopes";
import type { IdTokens } from "../id-tokens";
import { verifierMatches } from "../pkce";
import { formatScope } from "../scopes";
import type { Grant, OAuthTokenResponse } from "./grant";

export interface AuthorizationCodeGrantOptions {
  codes: AuthorizationCodes;
  users: UserService;
  roles: RoleService;
  consents: Consents;
  sessions: RefreshSessions;
  sessionTokens: SessionTokens;
  idTokens: IdTokens;
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
      return issueTokens(o, redemption.grant, client, ctx);
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

async function issueTokens(
  o: AuthorizationCodeGrantOptions,
  grant: CodeGrant,
  client: ClientRecord,
  ctx: RequestContext,
): Promise<OAuthTokenResponse> {
  const user = await o.users.findActive(grant.userId);
  if (!user) throw invalidGrant("the authorization code's user is disabled or gone");
  // Consent withdrawn since the code was issued: the code is worth nothing.
  if (!client.firstParty && !(await o.consents.covers(user.id, client.id, grant.scopes))) {
    throw invalidGrant("the user withdrew the consent this code was issued under");
  }
  const scopes = delegableScopes(grant.scopes, client, user.id, await o.roles.grantsFor(user.id));
  const scope = formatScope(scopes);
  const oauth = { clientId: client.id, scope, audiences: grant.audiences };
  const auth = { user, amr: grant.amr, authTime: grant.authTime };
  const wantsRefresh =
    client.grantTypes.includes("refresh_token") && (scopes.includes("offline_access") || !scopes.includes("openid"));
  const device = { ip: ctx.meta.ip, userAgent: ctx.meta.userAgent };
  let session: SessionRef;
  let refreshToken: string | undefined;
  let access: { access_token: string; expires_in: number };
  if (wantsRefresh) {
    const started = await o.sessions.startFamily(auth, device, ctx.now, { familyId: grant.grantId, oauth });
    ({ session, refreshToken, access } = started);
  } else {
    session = await o.sessions.recordAccessGrant(auth, device, ctx.now, { id: grant.grantId, oauth });
    access = await o.sessionTokens.accessToken(user, session, ctx.now);
  }
  const idToken = scopes.includes("openid")
    ? await o.idTokens.issue({
        client,
        user,
        session,
        scope,
        now: ctx.now,
        nonce: grant.nonce ?? undefined,
        accessToken: access.access_token,
      })
    : undefined;
  return {
    access_token: access.access_token,
    token_type: "Bearer",
    expires_in: access.expires_in,
    ...(scope ? { scope } : {}),
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
    ...(idToken ? { id_token: idToken } : {}),
  };
}
