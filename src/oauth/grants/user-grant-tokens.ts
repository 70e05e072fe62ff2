/**
 * @module oauth/grants/user-grant-tokens
 * The tokens of a grant a user gave a client (an authorization code, an
 * approved device code): the consent must still stand, the scopes are cut to
 * what is still delegable, and every grant is a session row whose id the
 * tokens carry as `sid`. A refresh token comes with `offline_access`, or for
 * plain OAuth requests (no `openid`), when the client registered the grant;
 * an ID token with `openid`.
 */
import { invalidGrant } from "../../app/errors/codes";
import type { RequestContext } from "../../app/request-context";
import type { RoleService } from "../../authz/roles";
import type { UserService } from "../../identity/users";
import type { RefreshSessions } from "../../sessions/refresh-sessions";
import type { SessionRef, SessionTokens } from "../../sessions/session-tokens";
import type { ClientRecord } from "../clients/client-store";
import type { Consents } from "../consents";
import { delegableScopes } from "../delegable-scopes";
import type { IdTokens } from "../id-tokens";
import { formatScope } from "../scopes";
import type { OAuthTokenResponse } from "./grant";

export interface UserGrantTokensOptions {
  users: UserService;
  roles: RoleService;
  consents: Consents;
  sessions: RefreshSessions;
  sessionTokens: SessionTokens;
  idTokens: IdTokens;
}

/** What the user granted, and the login they granted it with. */
export interface UserGrant {
  /** The session id (`sid`) the tokens will carry. */
  grantId: string;
  userId: string;
  scopes: string[];
  audiences: string[];
  amr: string[];
  /** Epoch ms of the login. */
  authTime: number;
  nonce?: string | null;
}

/** `artifact` names what was redeemed in error descriptions ("authorization code", "device code"). */
export async function issueUserGrantTokens(
  o: UserGrantTokensOptions,
  grant: UserGrant,
  client: ClientRecord,
  ctx: RequestContext,
  artifact: string,
): Promise<OAuthTokenResponse> {
  const user = await o.users.findActive(grant.userId);
  if (!user) throw invalidGrant(`the ${artifact}'s user is disabled or gone`);
  // Consent withdrawn since the grant was given: it is worth nothing.
  if (!client.firstParty && !(await o.consents.covers(user.id, client.id, grant.scopes))) {
    throw invalidGrant(`the user withdrew the consent this ${artifact} was issued under`);
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
