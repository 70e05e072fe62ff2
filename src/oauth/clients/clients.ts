/**
 * @module oauth/clients/clients
 * `OAuthClients`: registering, reading, changing and deleting OAuth clients,
 * and authenticating them at the token, revocation and introspection
 * endpoints. A confidential client's secret is 256 random bits, shown once
 * and kept only as SHA-256; it is compared in constant time.
 */
import { AuthError, notFound } from "../../app/errors/codes";
import type { RequestContext } from "../../app/request-context";
import { sha256Hex } from "../../lib/crypto/digest";
import { randomId, randomToken } from "../../lib/crypto/random";
import { timingSafeEqualStrings } from "../../lib/crypto/timing-safe";
import type { RevocationWriter } from "../../sessions/revocation-store";
import type { ClientCredentials } from "../client-credentials";
import {
  type ClientMetadataInput,
  type ClientSettings,
  clientSettings,
  type RegistrationSource,
} from "./client-metadata";
import type { ClientRecord, ClientStore } from "./client-store";

export interface OAuthClientsOptions {
  store: ClientStore;
  /** Revokes the sessions of a deleted client, and how long such records must live. */
  revocation: RevocationWriter;
  accessTokenHorizonMs: number;
  /** The audience of a client that names none: the issuer, so that no API accepts its tokens. */
  defaultAudience: string;
  /**
   * Clients that exist whenever they are looked up (development's `edgelock-cli`):
   * written on the first lookup that misses them. Empty in production.
   */
  seeded?: ClientRecord[];
}

export interface RegisteredClient {
  client: ClientRecord;
  /** The secret, this once; null for a public client. */
  secret: string | null;
}

/** The one answer to every failed client authentication (RFC 6749 §5.2). */
function invalidClient(): AuthError {
  return new AuthError("invalid_client", "client authentication failed");
}

export class OAuthClients {
  readonly #o: OAuthClientsOptions;

  constructor(options: OAuthClientsOptions) {
    this.#o = options;
  }

  async register(
    input: ClientMetadataInput,
    source: RegistrationSource,
    createdBy: string | null,
    ctx: RequestContext,
  ): Promise<RegisteredClient> {
    const settings = clientSettings(input, source, this.#o.defaultAudience);
    const secret = settings.authMethod === "none" ? null : randomToken(32);
    const client: ClientRecord = {
      ...settings,
      id: randomId(),
      secretHash: secret === null ? null : await sha256Hex(secret),
      createdBy: source === "registration" ? "registration" : createdBy,
      createdAt: ctx.now,
      updatedAt: ctx.now,
    };
    await this.#o.store.insert(client);
    ctx.audit.record("oauth_client_created", createdBy, { client_id: client.id, source }, ctx.now);
    return { client, secret };
  }

  /** Throws what register() would for this metadata, without registering anything. */
  async check(input: ClientMetadataInput, source: RegistrationSource): Promise<void> {
    clientSettings(input, source, this.#o.defaultAudience);
  }

  async find(id: string): Promise<ClientRecord | null> {
    const found = await this.#o.store.find(id);
    if (found) return found;
    const seed = this.#o.seeded?.find((client) => client.id === id);
    if (!seed) return null;
    await this.#o.store.insertIfAbsent(seed);
    return this.#o.store.find(id);
  }

  async require(id: string): Promise<ClientRecord> {
    const client = await this.find(id);
    if (!client) throw notFound("no such client");
    return client;
  }

  list(limit: number, after: string | null): Promise<ClientRecord[]> {
    return this.#o.store.list(limit, after);
  }

  /** Changes the given metadata, keeping the rest; a client stays public or confidential for life. */
  async update(id: string, input: ClientMetadataInput, actor: string, ctx: RequestContext): Promise<ClientRecord> {
    const current = await this.require(id);
    const merged: ClientMetadataInput = { ...metadataOf(current), ...stripUndefined(input) };
    const settings = clientSettings(merged, "admin", this.#o.defaultAudience);
    if ((settings.authMethod === "none") !== (current.authMethod === "none")) {
      throw new AuthError(
        "invalid_client_metadata",
        "token_endpoint_auth_method: a client cannot change between public and confidential; create a new one",
      );
    }
    const client: ClientRecord = { ...current, ...settings, updatedAt: ctx.now };
    if (!(await this.#o.store.update(client))) throw notFound("no such client");
    ctx.audit.record("oauth_client_updated", actor, { client_id: id }, ctx.now);
    return client;
  }

  /** A new secret; the old one stops working at once. */
  async rotateSecret(id: string, actor: string, ctx: RequestContext): Promise<string> {
    const client = await this.require(id);
    if (client.authMethod === "none") throw new AuthError("invalid_request", "a public client has no secret");
    const secret = randomToken(32);
    if (!(await this.#o.store.setSecretHash(id, await sha256Hex(secret), ctx.now))) throw notFound("no such client");
    ctx.audit.record("oauth_client_secret_rotated", actor, { client_id: id }, ctx.now);
    return secret;
  }

  /**
   * Deletes the client, its consents and its sessions, and revokes their
   * access tokens by `sid` (its client-credentials tokens, which have none,
   * live out their 10 minutes).
   */
  async delete(id: string, actor: string, ctx: RequestContext): Promise<void> {
    const sessions = await this.#o.store.delete(id, ctx.now);
    if (sessions === null) throw notFound("no such client");
    const keepUntil = ctx.now + this.#o.accessTokenHorizonMs;
    await Promise.all(sessions.map((sid) => this.#o.revocation.revokeSession(sid, keepUntil, ctx.now)));
    ctx.audit.record("oauth_client_deleted", actor, { client_id: id, sessions_revoked: sessions.length }, ctx.now);
  }

  /**
   * The client that `credentials` prove, using the method it registered; any
   * mismatch (unknown client, wrong secret, another method) is invalid_client.
   */
  async authenticate(credentials: ClientCredentials): Promise<ClientRecord> {
    const client = await this.find(credentials.clientId);
    // Hash whatever was presented even for an unknown client, so timing says nothing about which ids exist.
    const presented = credentials.secret === null ? null : await sha256Hex(credentials.secret);
    if (!client || client.authMethod !== credentials.method) throw invalidClient();
    if (client.authMethod === "none") return client;
    if (presented === null || client.secretHash === null || !timingSafeEqualStrings(presented, client.secretHash)) {
      throw invalidClient();
    }
    return client;
  }
}

/** A client as the admin API shows it: RFC 7591 names, never the secret or its hash. */
export function clientView(client: ClientRecord) {
  return {
    client_id: client.id,
    client_id_issued_at: Math.floor(client.createdAt / 1000),
    ...metadataOf(client),
    created_by: client.createdBy,
    updated_at: Math.floor(client.updatedAt / 1000),
  };
}

/** A record's metadata in RFC 7591 names (what a registration response and the admin API show). */
export function metadataOf(client: ClientSettings): ClientMetadataInput & Record<string, unknown> {
  return {
    client_name: client.name,
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    token_endpoint_auth_method: client.authMethod,
    grant_types: client.grantTypes,
    response_types: client.grantTypes.includes("authorization_code") ? ["code"] : [],
    scope: client.scopes.join(" "),
    id_token_signed_response_alg: client.idTokenAlg,
    ...(client.logoUri ? { logo_uri: client.logoUri } : {}),
    ...(client.clientUri ? { client_uri: client.clientUri } : {}),
    ...(client.policyUri ? { policy_uri: client.policyUri } : {}),
    ...(client.tosUri ? { tos_uri: client.tosUri } : {}),
    audiences: client.audiences,
    served_audiences: client.servedAudiences,
    first_party: client.firstParty,
  };
}

function stripUndefined<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as Partial<T>;
}
