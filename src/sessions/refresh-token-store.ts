/**
 * @module sessions/refresh-token-store
 * KV layout of refresh tokens (see docs/storage.md):
 *   refresh:<sha256 hex of token>  -> RefreshTokenRecord   TTL: token's remaining life
 * The token itself is never stored, only its SHA-256. A token's family (one per
 * login) is its `sessions` row in D1, not a KV record: see services/refresh-tokens.
 */
import { type ExpiringRecord, KvRecords } from "../verify/kv-records";

export interface RefreshTokenRecord extends ExpiringRecord {
  family_id: string;
  user_id: string;
  /** Random per token; with the token itself it derives the token's successor. */
  seed: string;
  /** Also when the predecessor was spent: a token is spent when its successor's record exists. */
  issued_at: number;
}

/**
 * What the refresh-token service needs from storage. KV implements it; a
 * Durable Object per family could implement it for strict consistency across
 * locations (docs/storage.md, "Consistency") without the service changing.
 */
export interface RefreshTokenRepository {
  getToken(tokenHash: string, now: number): Promise<RefreshTokenRecord | null>;
  putToken(tokenHash: string, record: RefreshTokenRecord, now: number): Promise<void>;
}

export class RefreshTokenStore implements RefreshTokenRepository {
  readonly #records: KvRecords;

  constructor(kv: KVNamespace) {
    this.#records = new KvRecords(kv);
  }

  getToken(tokenHash: string, now: number): Promise<RefreshTokenRecord | null> {
    return this.#records.get<RefreshTokenRecord>(`refresh:${tokenHash}`, now);
  }

  putToken(tokenHash: string, record: RefreshTokenRecord, now: number): Promise<void> {
    return this.#records.put(`refresh:${tokenHash}`, record, now);
  }
}
