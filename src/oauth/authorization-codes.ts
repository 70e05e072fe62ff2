/**
 * @module oauth/authorization-codes
 * `AuthorizationCodes`: authorization codes as one-time secrets (256 bits,
 * SHA-256 at rest, 60 s, spent once). A code is bound to its client, redirect
 * URI, PKCE challenge, nonce, user, scopes, audiences and the login it came
 * from; each code names the grant (a random id) that its tokens will carry as
 * `sid`, so a replayed code can revoke every token issued from it.
 */
import type { OneTimeSecrets } from "../one-time-secrets/one-time-secrets";

export const AUTHORIZATION_CODE_TTL_MS = 60_000;

export interface CodeGrant {
  grantId: string;
  userId: string;
  clientId: string;
  redirectUri: string;
  /** Whether the authorization request named the redirect URI (then the token request must name it too). */
  redirectUriGiven: boolean;
  codeChallenge: string | null;
  nonce: string | null;
  scopes: string[];
  audiences: string[];
  amr: string[];
  /** Epoch ms of the login. */
  authTime: number;
}

export type Redemption =
  | { kind: "redeemed"; grant: CodeGrant }
  /** Spent before: the grant whose tokens must now be revoked. */
  | { kind: "replayed"; grant: CodeGrant }
  | { kind: "unknown" };

export class AuthorizationCodes {
  readonly #secrets: OneTimeSecrets;

  constructor(options: { secrets: OneTimeSecrets }) {
    this.#secrets = options.secrets;
  }

  issue(grant: CodeGrant, now: number): Promise<string> {
    const payload = { ...grant } as unknown as Record<string, unknown>;
    return this.#secrets.issue({
      purpose: "authorization_code",
      userId: grant.userId,
      payload,
      ttlMs: AUTHORIZATION_CODE_TTL_MS,
      now,
    });
  }

  /** What a live code holds, without spending it (to check the binding first). */
  async peek(code: string, now: number): Promise<CodeGrant | null> {
    const found = await this.#secrets.peek(code, "authorization_code", now);
    return found?.payload ? (found.payload as unknown as CodeGrant) : null;
  }

  /** Spends the code: exactly one redemption ever succeeds; a later one is a replay. */
  async redeem(code: string, now: number): Promise<Redemption> {
    const spent = await this.#secrets.spend(code, "authorization_code", now);
    if (spent?.payload) return { kind: "redeemed", grant: spent.payload as unknown as CodeGrant };
    const replayed = await this.#secrets.findSpent(code, "authorization_code");
    if (replayed?.payload) return { kind: "replayed", grant: replayed.payload as unknown as CodeGrant };
    return { kind: "unknown" };
  }
}
