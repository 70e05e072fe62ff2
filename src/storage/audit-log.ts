/**
 * @module storage/audit-log
 * D1 access to `audit_log` and `known_devices`.
 */

export interface AuditRecord {
  createdAt: number;
  event: string;
  userId: string | null;
  ip: string | null;
  userAgent: string | null;
  country: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
}

export interface AuditRow {
  id: number;
  created_at: number;
  event: string;
  user_id: string | null;
  ip: string | null;
  user_agent: string | null;
  country: string | null;
  request_id: string | null;
  details: string;
}

export class AuditLogStore {
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  async insert(record: AuditRecord): Promise<void> {
    await this.#db
      .prepare(
        `INSERT INTO audit_log (created_at, event, user_id, ip, user_agent, country, request_id, details)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        record.createdAt,
        record.event,
        record.userId,
        record.ip,
        record.userAgent?.slice(0, 512) ?? null,
        record.country,
        record.requestId,
        JSON.stringify(record.details),
      )
      .run();
  }

  async listForUser(userId: string, limit = 100): Promise<AuditRow[]> {
    const { results } = await this.#db
      .prepare("SELECT * FROM audit_log WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?")
      .bind(userId, limit)
      .all<AuditRow>();
    return results;
  }

  /** Newest first, optionally for one user, before a cursor (an id) for paging. */
  async list(filter: { userId: string | null; before: number | null; limit: number }): Promise<AuditRow[]> {
    const { results } = await this.#db
      .prepare(
        `SELECT * FROM audit_log WHERE (?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR id < ?2)
         ORDER BY id DESC LIMIT ?3`,
      )
      .bind(filter.userId, filter.before, filter.limit)
      .all<AuditRow>();
    return results;
  }

  /** Deletes rows older than `before`; returns how many went. */
  async pruneBefore(before: number): Promise<number> {
    const result = await this.#db.prepare("DELETE FROM audit_log WHERE created_at < ?").bind(before).run();
    return result.meta.changes;
  }

  /**
   * Records that `userId` logged in from `device`, and says whether the device
   * is new and whether the user had any device before. One batch (one
   * transaction, one round trip): the count is read before the upsert.
   */
  async recordDevice(userId: string, device: string, now: number): Promise<{ isNew: boolean; hadDevices: boolean }> {
    const [seen] = await this.#db.batch([
      this.#db
        .prepare("SELECT COUNT(*) AS n, COALESCE(SUM(device = ?2), 0) AS known FROM known_devices WHERE user_id = ?1")
        .bind(userId, device),
      this.#db
        .prepare(
          `INSERT INTO known_devices (user_id, device, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (user_id, device) DO UPDATE SET last_seen_at = excluded.last_seen_at`,
        )
        .bind(userId, device, now, now),
    ]);
    const row = seen?.results[0] as { n: number; known: number } | undefined;
    return { isNew: (row?.known ?? 0) === 0, hadDevices: (row?.n ?? 0) > 0 };
  }
}
