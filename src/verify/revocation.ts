/**
 * @module storage/revocation
 * KV layout of the access-token revocation list (see docs/storage.md):
 *   revoked-jti:<jti>        -> { expires_at }                TTL: the token's remaining life
 *   revoked-sid:<session id> -> { expires_at }                TTL: the longest access-token life
 *   not-before:<user id>     -> { not_before, expires_at }    TTL: the longest access-token life
 * Edge verifiers read these keys too, so their shape is part of the public contract.
 */
import { KvRecords } from "./kv-records";

interface NotBeforeRecord {
  /** Access tokens with `iat` (seconds) below this are void. */
  not_before: number;
  expires_at: number;
}

export class RevocationStore {
  readonly #records: KvRecords;

  constructor(kv: KVNamespace) {
    this.#records = new KvRecords(kv);
  }

  async isJtiRevoked(jti: string, now: number): Promise<boolean> {
    return (await this.#records.get(`revoked-jti:${jti}`, now)) !== null;
  }

  revokeJti(jti: string, tokenExpiresAt: number, now: number): Promise<void> {
    return this.#records.put(`revoked-jti:${jti}`, { expires_at: tokenExpiresAt }, now);
  }

  async isSessionRevoked(sessionId: string, now: number): Promise<boolean> {
    return (await this.#records.get(`revoked-sid:${sessionId}`, now)) !== null;
  }

  /** Every access token of the session (refresh family) dies; `keepUntil` is when the last of them expires. */
  revokeSession(sessionId: string, keepUntil: number, now: number): Promise<void> {
    return this.#records.put(`revoked-sid:${sessionId}`, { expires_at: keepUntil }, now);
  }

  async notBefore(userId: string, now: number): Promise<number> {
    const record = await this.#records.get<NotBeforeRecord>(`not-before:${userId}`, now);
    return record?.not_before ?? 0;
  }

  /** `keepUntil`: once every access token issued before the marker has expired, the marker can go. */
  setNotBefore(userId: string, notBeforeSeconds: number, keepUntil: number, now: number): Promise<void> {
    const record: NotBeforeRecord = { not_before: notBeforeSeconds, expires_at: keepUntil };
    return this.#records.put(`not-before:${userId}`, record, now);
  }
}
