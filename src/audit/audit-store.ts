/**
 * @module audit/audit-store
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

export class AuditStore {
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  async insert(record: AuditRecord): Promise<void> {
    await this.#insertStatement(record).run();
  }

  #insertStatement(record: AuditRecord): D1PreparedStatement {
    return this.#db
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
      );
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
   * What a successful login leaves behind, in one batch (one transaction, one
   * round trip): its audit row, and its device in `known_devices`. Says whether
   * the device is new and whether the user had any device before (counted
   * before this one is added). A known device's `last_seen_at` is rewritten only
   * when older than `touchAfterMs`, so most logins write the audit row alone.
   */
  async recordLogin(
    entry: AuditRecord,
    device: string,
    touchAfterMs: number,
  ): Promise<{ isNew: boolean; hadDevices: boolean }> {
    const userId = entry.userId;
    const now = entry.createdAt;
    const [, counted, upserted] = await this.#db.batch([
      this.#insertStatement(entry),
      this.#db.prepare("SELECT COUNT(*) AS n FROM known_devices WHERE user_id = ?").bind(userId),
      // Inserted: first_seen_at = last_seen_at = now, so `fresh` is 1. A stale
      // known device is updated (fresh 0); a recent one is left alone (no row).
      this.#db
        .prepare(
          `INSERT INTO known_devices (user_id, device, first_seen_at, last_seen_at) VALUES (?1, ?2, ?3, ?3)
           ON CONFLICT (user_id, device) DO UPDATE SET last_seen_at = excluded.last_seen_at
             WHERE known_devices.last_seen_at < ?4
           RETURNING first_seen_at = last_seen_at AS fresh`,
        )
        .bind(userId, device, now, now - touchAfterMs),
    ]);
    const n = (counted?.results[0] as { n: number } | undefined)?.n ?? 0;
    const fresh = (upserted?.results[0] as { fresh: number } | undefined)?.fresh === 1;
    return { isNew: fresh, hadDevices: n > 0 };
  }
}
