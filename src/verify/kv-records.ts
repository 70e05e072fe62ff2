/**
 * @module verify/kv-records
 * JSON records in KV that carry their own `expires_at`.
 *
 * Why both a TTL and `expires_at`: KV refuses `expirationTtl` under 60 s and
 * expires lazily, so KV's TTL is only garbage collection. Whether a record is
 * still valid is decided by `expires_at`, checked in code against an injectable
 * `now` (tests cannot fast-forward KV's own clock).
 */

export const KV_MIN_TTL_SECONDS = 60;

export interface ExpiringRecord {
  expires_at: number; // epoch ms
}

/**
 * The read half of a KV namespace, all the verifier needs. Structural, so the
 * published types need no Workers type package: a `KVNamespace` binding fits.
 */
export interface KvJsonReader {
  get(key: string, type: "json"): Promise<unknown>;
}

/** What KvRecords writes with (the auth Worker's side); a `KVNamespace` binding fits. */
export interface KvJsonStore extends KvJsonReader {
  put(key: string, value: string, options: { expirationTtl: number }): Promise<unknown>;
}

/** A live record under `key`, or null when absent, malformed or past its `expires_at`. */
export async function readRecord<T extends ExpiringRecord>(
  kv: KvJsonReader,
  key: string,
  now: number,
): Promise<T | null> {
  const record = (await kv.get(key, "json")) as T | null;
  if (!record || typeof record.expires_at !== "number" || record.expires_at <= now) return null;
  return record;
}

export class KvRecords {
  readonly #kv: KvJsonStore;

  constructor(kv: KvJsonStore) {
    this.#kv = kv;
  }

  get<T extends ExpiringRecord>(key: string, now: number): Promise<T | null> {
    return readRecord<T>(this.#kv, key, now);
  }

  async put(key: string, record: ExpiringRecord, now: number): Promise<void> {
    await this.#kv.put(key, JSON.stringify(record), { expirationTtl: ttlSeconds(record.expires_at, now) });
  }
}

/** KV's TTL for a record: its remaining life, clamped up to KV's 60 s minimum. */
export function ttlSeconds(expiresAt: number, now: number): number {
  return Math.max(KV_MIN_TTL_SECONDS, Math.ceil((expiresAt - now) / 1000));
}
