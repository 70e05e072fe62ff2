/**
 * @module oauth/registration
 * `ClientRegistration` (RFC 7591): clients register themselves. Off, open, or
 * behind an initial access token (§3) that an admin mints: 256 bits, shown
 * once, SHA-256 at rest, good for one registration within its lifetime.
 * Registered clients are checked exactly like admin-created ones, and may
 * not pick what only an admin may (audiences, client credentials, first party).
 */
import { AuthError, invalidToken } from "../app/errors/codes";
import type { RequestContext } from "../app/request-context";
import type { OneTimeSecrets } from "../one-time-secrets/one-time-secrets";
import type { ClientMetadataInput } from "./clients/client-metadata";
import type { OAuthClients, RegisteredClient } from "./clients/clients";

export type RegistrationMode = "off" | "token" | "open";

export const INITIAL_ACCESS_TOKEN_TTL_MS = 24 * 3_600_000;

export interface ClientRegistrationOptions {
  mode: RegistrationMode;
  clients: OAuthClients;
  secrets: OneTimeSecrets;
}

export class ClientRegistration {
  readonly #o: ClientRegistrationOptions;

  constructor(options: ClientRegistrationOptions) {
    this.#o = options;
  }

  get enabled(): boolean {
    return this.#o.mode !== "off";
  }

  /** A new initial access token for one registration; null when registration does not take tokens. */
  async mintInitialAccessToken(
    adminId: string,
    ctx: RequestContext,
  ): Promise<{ token: string; expiresAt: number } | null> {
    if (this.#o.mode !== "token") return null;
    const token = await this.#o.secrets.issue({
      purpose: "oauth_registration",
      userId: adminId,
      ttlMs: INITIAL_ACCESS_TOKEN_TTL_MS,
      now: ctx.now,
    });
    ctx.audit.record("oauth_registration_token_minted", adminId, {}, ctx.now);
    return { token, expiresAt: ctx.now + INITIAL_ACCESS_TOKEN_TTL_MS };
  }

  /** Registers a client; `bearer` is the initial access token presented, if any. */
  async register(input: ClientMetadataInput, bearer: string | null, ctx: RequestContext): Promise<RegisteredClient> {
    if (this.#o.mode === "off") throw new AuthError("not_found", "client registration is off");
    if (this.#o.mode === "token") {
      if (bearer === null) throw invalidToken("an initial access token is required", { tokenPresent: false });
      // Spent only by a registration that passes the checks below it: a typo in
      // the metadata must not cost the token (checked by a dry run first).
      await this.#o.clients.check(input, "registration");
      const spent = await this.#o.secrets.spend(bearer, "oauth_registration", ctx.now);
      if (!spent) throw invalidToken("the initial access token is invalid, expired or used");
      return this.#o.clients.register(input, "registration", spent.userId, ctx);
    }
    return this.#o.clients.register(input, "registration", null, ctx);
  }
}
