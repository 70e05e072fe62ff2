/**
 * @module oauth/revocation
 * `TokenRevocation` (RFC 7009): a client revokes a token issued to it. A
 * refresh token ends its whole family (and the family's access tokens); an
 * access token is deny-listed by `jti`, which edge verifiers with revocation
 * checks honour. An unknown, expired or another client's token changes
 * nothing and is answered the same way (§2.2), so the endpoint tells nobody
 * which tokens exist. `token_type_hint` is only a hint: both kinds are tried.
 */
import type { RefreshSessions } from "../sessions/refresh-sessions";
import { familyIdOf } from "../sessions/refresh-token-format";
import type { RevocationWriter } from "../sessions/revocation-store";
import { CLOCK_SKEW_SECONDS } from "../tokens/issuer";
import type { TokenInspector } from "../tokens/token-inspector";
import type { ClientRecord } from "./clients/client-store";

export interface TokenRevocationOptions {
  sessions: RefreshSessions;
  inspector: TokenInspector;
  revocation: RevocationWriter;
}

export class TokenRevocation {
  readonly #o: TokenRevocationOptions;

  constructor(options: TokenRevocationOptions) {
    this.#o = options;
  }

  async revoke(token: string, client: ClientRecord, now: number): Promise<void> {
    if (familyIdOf(token) !== null) {
      await this.#o.sessions.revokeForClient(token, client.id, now);
      return;
    }
    const claims = await this.#o.inspector.validClaims(token, now);
    if (!claims || claims.client_id !== client.id) return;
    // Kept past `exp` by the verifiers' clock tolerance: they still accept the token that long.
    await this.#o.revocation.revokeJti(claims.jti, (claims.exp + CLOCK_SKEW_SECONDS) * 1000, now);
  }
}
