/**
 * @module sessions/session-tokens
 * Access tokens for a user's session (a refresh family or a cookie session):
 * the session id as `sid`, the session's `amr` and `auth_time`, and the user's
 * current roles, read at every issue so a role change shows in the next token.
 */
import type { Grants, RoleStore } from "../authz/role-store";
import type { UserRecord } from "../identity/user-store";
import { accessNotBeforeSeconds } from "../identity/users";
import type { TokenIssuer } from "../tokens/issuer";
import type { OAuthBinding } from "./session-store";

export interface AccessTokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
}

/** A session as its access tokens name it. */
export interface SessionRef {
  id: string;
  amr: readonly string[];
  /** Epoch ms the session's user authenticated. */
  authTime: number;
  /** Set for a session issued to an OAuth client: its tokens carry that client, scope and audience. */
  oauth?: OAuthBinding;
}

export interface SessionTokensOptions {
  issuer: TokenIssuer;
  roles: RoleStore;
}

export class SessionTokens {
  readonly #o: SessionTokensOptions;

  constructor(options: SessionTokensOptions) {
    this.#o = options;
  }

  get issuer(): TokenIssuer {
    return this.#o.issuer;
  }

  /** `knownGrants`: the user's grants when the caller read them already (in its own D1 batch). */
  async accessToken(
    user: UserRecord,
    session: SessionRef,
    now: number,
    knownGrants?: Grants,
  ): Promise<AccessTokenResponse> {
    // The marker a role change or logout-all raises kills older tokens; newer ones start at it.
    const notBeforeSeconds = accessNotBeforeSeconds(user);
    const base = {
      principal: { type: "user", id: user.id },
      sessionId: session.id,
      amr: session.amr,
      authTime: session.authTime,
      notBeforeSeconds,
    } as const;
    // An OAuth client's token carries what the user delegated (its scope), never the user's roles.
    const { oauth } = session;
    const access = oauth
      ? await this.#o.issuer.issueAccessToken(
          { ...base, clientId: oauth.clientId, scope: oauth.scope, audience: audienceOf(oauth.audiences) },
          now,
        )
      : await this.#o.issuer.issueAccessToken(
          { ...base, grants: knownGrants ?? (await this.#o.roles.grantsFor(user.id)) },
          now,
        );
    return { access_token: access.token, token_type: "Bearer", expires_in: access.expiresIn };
  }
}

function audienceOf(audiences: readonly string[]): string | string[] {
  return audiences.length === 1 ? (audiences[0] as string) : [...audiences];
}

/** A session row's `amr` column (JSON) as a list; a malformed value reads as no method at all. */
export function parseAmr(column: string): string[] {
  try {
    const parsed: unknown = JSON.parse(column);
    return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === "string") : [];
  } catch {
    return [];
  }
}
