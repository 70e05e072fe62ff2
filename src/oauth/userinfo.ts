/**
 * @module oauth/userinfo
 * `UserInfo` (OIDC Core §5.3): the claims an access token's scopes allow
 * about its user. The token must be live (signature, expiry, revocation),
 * carry `openid`, and be about a user who still exists and is enabled.
 */
import { insufficientScope, invalidToken } from "../app/errors/codes";
import type { UserService } from "../identity/users";
import type { TokenInspector } from "../tokens/token-inspector";
import { parseScope } from "./scopes";

export class UserInfo {
  readonly #inspector: TokenInspector;
  readonly #users: UserService;

  constructor(options: { inspector: TokenInspector; users: UserService }) {
    this.#inspector = options.inspector;
    this.#users = options.users;
  }

  async claims(accessToken: string, now: number): Promise<Record<string, unknown>> {
    const claims = await this.#inspector.activeClaims(accessToken, now);
    if (!claims) throw invalidToken("the access token is invalid, expired or revoked");
    const scopes = parseScope(claims.scope ?? "");
    if (!scopes.includes("openid")) throw insufficientScope("userinfo needs a token with the openid scope");
    const user = await this.#users.findActive(claims.sub);
    if (!user) throw invalidToken("the access token's user no longer exists or is disabled");
    return {
      sub: user.id,
      ...(scopes.includes("email") ? { email: user.email, email_verified: user.email_verified_at !== null } : {}),
    };
  }
}
