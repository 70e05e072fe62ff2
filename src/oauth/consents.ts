/**
 * @module oauth/consents
 * `Consents`: what a user allowed a client, remembered so the consent page is
 * shown once per client and set of scopes. Revoking a consent also ends the
 * client's refresh tokens for that user and the access tokens they issued.
 */
import { notFound } from "../app/errors/codes";
import type { RequestContext } from "../app/request-context";
import type { RevocationWriter } from "../sessions/revocation-store";
import type { ConsentStore } from "./consent-store";
import { withinScopes } from "./scopes";

export interface ConsentView {
  client_id: string;
  client_name: string;
  scopes: string[];
  granted_at: string;
}

export interface ConsentsOptions {
  store: ConsentStore;
  revocation: RevocationWriter;
  /** How long revoked-sid records must live (the access-token horizon). */
  accessTokenHorizonMs: number;
}

export class Consents {
  readonly #o: ConsentsOptions;

  constructor(options: ConsentsOptions) {
    this.#o = options;
  }

  /** Whether the user already allowed the client every one of `scopes`. */
  async covers(userId: string, clientId: string, scopes: string[]): Promise<boolean> {
    const granted = await this.#o.store.scopesFor(userId, clientId);
    return granted !== null && withinScopes(scopes, granted);
  }

  /** Remembers `scopes` on top of what was allowed before. */
  async grant(userId: string, clientId: string, scopes: string[], ctx: RequestContext): Promise<void> {
    const before = (await this.#o.store.scopesFor(userId, clientId)) ?? [];
    const scopesNow = [...new Set([...before, ...scopes])].sort();
    await this.#o.store.save(userId, clientId, scopesNow, ctx.now);
    ctx.audit.record("oauth_consent_granted", userId, { client_id: clientId, scopes: scopesNow }, ctx.now);
  }

  async list(userId: string): Promise<ConsentView[]> {
    const rows = await this.#o.store.list(userId);
    return rows.map((row) => ({
      client_id: row.client_id,
      client_name: row.client_name,
      scopes: JSON.parse(row.scopes) as string[],
      granted_at: new Date(row.granted_at).toISOString(),
    }));
  }

  async revoke(userId: string, clientId: string, ctx: RequestContext): Promise<void> {
    const { removed, families } = await this.#o.store.revoke(userId, clientId, ctx.now);
    if (!removed && families.length === 0) throw notFound("no consent for that client");
    const keepUntil = ctx.now + this.#o.accessTokenHorizonMs;
    await Promise.all(families.map((id) => this.#o.revocation.revokeSession(id, keepUntil, ctx.now)));
    ctx.audit.record(
      "oauth_consent_revoked",
      userId,
      { client_id: clientId, sessions_revoked: families.length },
      ctx.now,
    );
  }
}
