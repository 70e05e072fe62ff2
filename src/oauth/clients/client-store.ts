/**
 * @module oauth/clients/client-store
 * D1 access to `oauth_clients`. List-valued columns are JSON arrays.
 */
import type { ClientAuthMethod, ClientSettings, GrantType } from "./client-metadata";

export interface ClientRecord extends ClientSettings {
  id: string;
  /** SHA-256 (hex) of the secret; null for public clients. */
  secretHash: string | null;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
}

interface ClientRow {
  id: string;
  name: string;
  secret_hash: string | null;
  token_endpoint_auth_method: ClientAuthMethod;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  grant_types: string;
  scopes: string;
  audiences: string;
  served_audiences: string;
  id_token_signed_response_alg: "RS256" | "ES256";
  logo_uri: string | null;
  client_uri: string | null;
  policy_uri: string | null;
  tos_uri: string | null;
  first_party: number;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

const COLUMNS = `id, name, secret_hash, token_endpoint_auth_method, redirect_uris, post_logout_redirect_uris,
  grant_types, scopes, audiences, served_audiences, id_token_signed_response_alg, logo_uri, client_uri, policy_uri, tos_uri,
  first_party, created_by, created_at, updated_at`;

const INSERT = `INSERT INTO oauth_clients (${COLUMNS}) VALUES (${COLUMNS.split(",")
  .map(() => "?")
  .join(", ")})`;

export class ClientStore {
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  async insert(client: ClientRecord): Promise<void> {
    await this.#db
      .prepare(INSERT)
      .bind(...rowValues(client))
      .run();
  }

  /** Inserts the client unless one with its id exists (which is then left as it is). */
  async insertIfAbsent(client: ClientRecord): Promise<void> {
    await this.#db
      .prepare(`${INSERT} ON CONFLICT (id) DO NOTHING`)
      .bind(...rowValues(client))
      .run();
  }

  async find(id: string): Promise<ClientRecord | null> {
    const row = await this.#db.prepare(`SELECT ${COLUMNS} FROM oauth_clients WHERE id = ?`).bind(id).first<ClientRow>();
    return row ? toRecord(row) : null;
  }

  async list(limit: number, after: string | null): Promise<ClientRecord[]> {
    const { results } = await this.#db
      .prepare(`SELECT ${COLUMNS} FROM oauth_clients WHERE id > ? ORDER BY id LIMIT ?`)
      .bind(after ?? "", limit)
      .all<ClientRow>();
    return results.map(toRecord);
  }

  /** Replaces everything but id, secret and creation; false when there is no such client. */
  async update(client: ClientRecord): Promise<boolean> {
    const result = await this.#db
      .prepare(
        `UPDATE oauth_clients SET name = ?, token_endpoint_auth_method = ?, redirect_uris = ?,
           post_logout_redirect_uris = ?, grant_types = ?, scopes = ?, audiences = ?, served_audiences = ?,
           id_token_signed_response_alg = ?, logo_uri = ?, client_uri = ?, policy_uri = ?, tos_uri = ?,
           first_party = ?, secret_hash = ?, updated_at = ?
         WHERE id = ?`,
      )
      .bind(client.name, ...settingValues(client), client.secretHash, client.updatedAt, client.id)
      .run();
    return result.meta.changes > 0;
  }

  async setSecretHash(id: string, secretHash: string, now: number): Promise<boolean> {
    const result = await this.#db
      .prepare("UPDATE oauth_clients SET secret_hash = ?, updated_at = ? WHERE id = ? AND secret_hash IS NOT NULL")
      .bind(secretHash, now, id)
      .run();
    return result.meta.changes > 0;
  }

  /**
   * Deletes the client (its consents and sessions cascade); answers the ids of
   * the sessions that were still live, whose tokens must now be revoked, or
   * null when there was no such client. One transaction.
   */
  async delete(id: string, now: number): Promise<string[] | null> {
    const [live, deleted] = await this.#db.batch<{ id: string }>([
      this.#db
        .prepare("SELECT id FROM sessions WHERE client_id = ? AND revoked_at IS NULL AND expires_at > ?")
        .bind(id, now),
      this.#db.prepare("DELETE FROM oauth_clients WHERE id = ?").bind(id),
    ]);
    if ((deleted?.meta.changes ?? 0) === 0) return null;
    return (live?.results ?? []).map((row) => row.id);
  }
}

/** The settings columns after `name`, in COLUMNS order minus id, name and secret_hash. */
function settingValues(client: ClientRecord): unknown[] {
  return [
    client.authMethod,
    JSON.stringify(client.redirectUris),
    JSON.stringify(client.postLogoutRedirectUris),
    JSON.stringify(client.grantTypes),
    JSON.stringify(client.scopes),
    JSON.stringify(client.audiences),
    JSON.stringify(client.servedAudiences),
    client.idTokenAlg,
    client.logoUri,
    client.clientUri,
    client.policyUri,
    client.tosUri,
    client.firstParty ? 1 : 0,
  ];
}

function rowValues(client: ClientRecord): unknown[] {
  return [
    client.id,
    client.name,
    client.secretHash,
    ...settingValues(client),
    client.createdBy,
    client.createdAt,
    client.updatedAt,
  ];
}

function toRecord(row: ClientRow): ClientRecord {
  return {
    id: row.id,
    name: row.name,
    secretHash: row.secret_hash,
    authMethod: row.token_endpoint_auth_method,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris) as string[],
    grantTypes: JSON.parse(row.grant_types) as GrantType[],
    scopes: JSON.parse(row.scopes) as string[],
    audiences: JSON.parse(row.audiences) as string[],
    servedAudiences: JSON.parse(row.served_audiences) as string[],
    idTokenAlg: row.id_token_signed_response_alg,
    logoUri: row.logo_uri,
    clientUri: row.client_uri,
    policyUri: row.policy_uri,
    tosUri: row.tos_uri,
    firstParty: row.first_party === 1,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
