/**
 * @module verify/revocation
 * The revocation list's KV contract, shared by the auth Worker (which writes
 * it, sessions/revocation-store.ts) and edge verifiers (which read it). Keys:
 *   revoked-jti:<jti>        -> { expires_at }                TTL: the token's remaining life
 *   revoked-sid:<session id> -> { expires_at }                TTL: the longest access-token life
 *   not-before:<user id>     -> { not_before, expires_at }    TTL: the longest access-token life
 * Every record carries its own `expires_at` (see kv-records.ts).
 */
import { type ExpiringRecord, type KvJsonReader, readRecord } from "./kv-records.js";

export const revocationKeys = {
  jti: (jti: string) => `revoked-jti:${jti}`,
  session: (sessionId: string) => `revoked-sid:${sessionId}`,
  notBefore: (userId: string) => `not-before:${userId}`,
};

export interface NotBeforeRecord extends ExpiringRecord {
  /** Access tokens with `iat` (seconds) below this are void. */
  not_before: number;
}

/** Reads the revocation list (a read-only KV binding is all it needs). */
export class RevocationReader {
  readonly #kv: KvJsonReader;

  constructor(kv: KvJsonReader) {
    this.#kv = kv;
  }

  async isJtiRevoked(jti: string, now: number): Promise<boolean> {
    return (await readRecord(this.#kv, revocationKeys.jti(jti), now)) !== null;
  }

  async isSessionRevoked(sessionId: string, now: number): Promise<boolean> {
    return (await readRecord(this.#kv, revocationKeys.session(sessionId), now)) !== null;
  }

  /** The user's not-before marker in seconds (0 when none). */
  async notBefore(userId: string, now: number): Promise<number> {
    const record = await readRecord<NotBeforeRecord>(this.#kv, revocationKeys.notBefore(userId), now);
    return record?.not_before ?? 0;
  }
}
