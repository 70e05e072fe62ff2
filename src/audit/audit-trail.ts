/**
 * @module audit/audit-trail
 * Reading the audit log (the admin API): newest first, by user, paged by id.
 */
import type { AuditRow, AuditStore } from "./audit-store";

/** An audit row as the admin API shows it: ISO time, details parsed. */
export type AuditEntryView = Omit<AuditRow, "created_at" | "details"> & { time: string; details: unknown };

export interface AuditFilter {
  userId: string | null;
  /** An entry id: only older entries. */
  before: number | null;
  limit: number;
}

export class AuditTrail {
  readonly #store: AuditStore;

  constructor(options: { store: AuditStore }) {
    this.#store = options.store;
  }

  async list(filter: AuditFilter): Promise<AuditEntryView[]> {
    return (await this.#store.list(filter)).map(entryView);
  }
}

function entryView(row: AuditRow): AuditEntryView {
  return {
    id: row.id,
    time: new Date(row.created_at).toISOString(),
    event: row.event,
    user_id: row.user_id,
    ip: row.ip,
    user_agent: row.user_agent,
    country: row.country,
    request_id: row.request_id,
    details: JSON.parse(row.details) as unknown,
  };
}
