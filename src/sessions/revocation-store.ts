/**
 * @module sessions/revocation-store
 * Writes the access-token revocation list in KV, in the shape edge verifiers
 * read (src/verify/revocation.ts holds the keys and record shapes). Each record
 * lives until every token it could void has expired.
 */
import { KvRecords } from "../verify/kv-records";
import { type NotBeforeRecord, revocationKeys } from "../verify/revocation";

export class RevocationWriter {
  readonly #records: KvRecords;

  constructor(kv: KVNamespace) {
    this.#records = new KvRecords(kv);
  }

  /** One access token dies; `tokenExpiresAt` is when it would have expired anyway (tolerance included). */
  revokeJti(jti: string, tokenExpiresAt: number, now: number): Promise<void> {
    return this.#records.put(revocationKeys.jti(jti), { expires_at: tokenExpiresAt }, now);
  }

  /** Every access token of the session dies; `keepUntil` is when the last of them expires. */
  revokeSession(sessionId: string, keepUntil: number, now: number): Promise<void> {
    return this.#records.put(revocationKeys.session(sessionId), { expires_at: keepUntil }, now);
  }

  /** `keepUntil`: once every access token issued before the marker has expired, the marker can go. */
  setNotBefore(userId: string, notBeforeSeconds: number, keepUntil: number, now: number): Promise<void> {
    const record: NotBeforeRecord = { not_before: notBeforeSeconds, expires_at: keepUntil };
    return this.#records.put(revocationKeys.notBefore(userId), record, now);
  }
}
