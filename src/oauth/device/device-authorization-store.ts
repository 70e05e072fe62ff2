/**
 * @module oauth/device/device-authorization-store
 * D1 access to `device_authorizations` (RFC 8628): one row per device
 * request, found by its device code's SHA-256 (polls) or by its user code
 * (the /device page). A poll is one guarded `UPDATE … RETURNING`: D1 runs a
 * statement atomically on the primary, so concurrent polls of one code are
 * ordered, each sees the last one's `last_polled_at` and `interval_seconds`,
 * and exactly one of them can turn `approved` into `redeemed`.
 */

export type DeviceStatus = "pending" | "approved" | "denied" | "redeemed";

export interface NewDeviceAuthorization {
  id: string;
  deviceCodeHash: string;
  userCode: string;
  clientId: string;
  scopes: string[];
  audiences: string[];
  intervalSeconds: number;
  expiresAt: number;
  now: number;
}

/** A request still waiting for the user's answer. */
export interface PendingDeviceAuthorization {
  id: string;
  userCode: string;
  clientId: string;
  scopes: string[];
  audiences: string[];
  expiresAt: number;
}

/** What the user decided on the confirmation page. */
export type DeviceDecision =
  | {
      status: "approved";
      userId: string;
      grantedScopes: string[];
      amr: string[];
      authTime: number;
      grantId: string;
    }
  | { status: "denied"; userId: string };

/**
 * A poll's answer, as its own UPDATE wrote it: `pending`, `slow_down`,
 * `denied`, `redeemed` (this poll spent the approved code), `expired`, or
 * `spent` (redeemed by an earlier poll).
 */
export type PollResult = "pending" | "slow_down" | "denied" | "redeemed" | "expired" | "spent";

export interface PollRow {
  result: PollResult;
  intervalSeconds: number;
  /** Set when `result` is `redeemed`. */
  approval: {
    userId: string;
    grantedScopes: string[];
    audiences: string[];
    amr: string[];
    authTime: number;
    grantId: string;
  } | null;
}

interface PendingRow {
  id: string;
  user_code: string;
  client_id: string;
  scopes: string;
  audiences: string;
  expires_at: number;
}

interface PolledRow {
  last_poll_result: PollResult;
  interval_seconds: number;
  user_id: string | null;
  granted_scopes: string | null;
  audiences: string;
  amr: string | null;
  auth_time: number | null;
  grant_id: string | null;
}

const PENDING_COLUMNS = "id, user_code, client_id, scopes, audiences, expires_at";
const PENDING = "status = 'pending' AND expires_at > ?";

// ?1 the device code's hash, ?2 now, ?3 the polling client. Every SET expression
// reads the row as it was before this statement, so the conditions are spelled out
// in each; RETURNING reads the row as this statement left it.
const LIVE = "(status <> 'redeemed' AND expires_at > ?2)";
/** Polled sooner than the interval after the previous poll (the first poll is never too soon). */
const TOO_SOON = "(last_polled_at IS NOT NULL AND ?2 - last_polled_at < interval_seconds * 1000)";
const POLL = `UPDATE device_authorizations SET
    last_poll_result = CASE
      WHEN status = 'redeemed' THEN 'spent'
      WHEN expires_at <= ?2 THEN 'expired'
      WHEN ${TOO_SOON} THEN 'slow_down'
      WHEN status = 'approved' THEN 'redeemed'
      ELSE status END,
    interval_seconds = CASE WHEN ${LIVE} AND ${TOO_SOON} THEN interval_seconds + ?4 ELSE interval_seconds END,
    last_polled_at = CASE WHEN ${LIVE} THEN ?2 ELSE last_polled_at END,
    status = CASE WHEN ${LIVE} AND NOT ${TOO_SOON} AND status = 'approved' THEN 'redeemed' ELSE status END
  WHERE device_code_hash = ?1 AND client_id = ?3
  RETURNING last_poll_result, interval_seconds, user_id, granted_scopes, audiences, amr, auth_time, grant_id`;

export class DeviceAuthorizationStore {
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  /** Stores a new request; false (and nothing stored) when its user code is taken. */
  async insert(row: NewDeviceAuthorization): Promise<boolean> {
    const result = await this.#db
      .prepare(
        `INSERT INTO device_authorizations
           (id, device_code_hash, user_code, client_id, scopes, audiences, interval_seconds, expires_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_code) DO NOTHING`,
      )
      .bind(
        row.id,
        row.deviceCodeHash,
        row.userCode,
        row.clientId,
        JSON.stringify(row.scopes),
        JSON.stringify(row.audiences),
        row.intervalSeconds,
        row.expiresAt,
        row.now,
      )
      .run();
    return result.meta.changes === 1;
  }

  async findPendingByUserCode(userCode: string, now: number): Promise<PendingDeviceAuthorization | null> {
    const row = await this.#db
      .prepare(`SELECT ${PENDING_COLUMNS} FROM device_authorizations WHERE user_code = ? AND ${PENDING}`)
      .bind(userCode, now)
      .first<PendingRow>();
    return row ? toPending(row) : null;
  }

  async findPending(id: string, now: number): Promise<PendingDeviceAuthorization | null> {
    const row = await this.#db
      .prepare(`SELECT ${PENDING_COLUMNS} FROM device_authorizations WHERE id = ? AND ${PENDING}`)
      .bind(id, now)
      .first<PendingRow>();
    return row ? toPending(row) : null;
  }

  /** Records the user's answer; false when the request was no longer pending (answered, expired). */
  async decide(id: string, decision: DeviceDecision, now: number): Promise<boolean> {
    const approved = decision.status === "approved" ? decision : null;
    const result = await this.#db
      .prepare(
        `UPDATE device_authorizations
         SET status = ?, user_id = ?, granted_scopes = ?, amr = ?, auth_time = ?, grant_id = ?, decided_at = ?
         WHERE id = ? AND ${PENDING}`,
      )
      .bind(
        decision.status,
        decision.userId,
        approved ? JSON.stringify(approved.grantedScopes) : null,
        approved ? JSON.stringify(approved.amr) : null,
        approved?.authTime ?? null,
        approved?.grantId ?? null,
        now,
        id,
        now,
      )
      .run();
    return result.meta.changes === 1;
  }

  /**
   * One poll by `clientId`: records it and answers what it found, in one
   * statement. Null when no code of this client has that hash (unknown, or
   * another client's: neither changes anything).
   */
  async poll(deviceCodeHash: string, clientId: string, now: number, slowDownStepSeconds: number) {
    const row = await this.#db
      .prepare(POLL)
      .bind(deviceCodeHash, now, clientId, slowDownStepSeconds)
      .first<PolledRow>();
    if (!row) return null;
    const approval =
      row.last_poll_result === "redeemed" && row.user_id !== null && row.grant_id !== null
        ? {
            userId: row.user_id,
            grantedScopes: JSON.parse(row.granted_scopes ?? "[]") as string[],
            audiences: JSON.parse(row.audiences) as string[],
            amr: JSON.parse(row.amr ?? "[]") as string[],
            authTime: row.auth_time ?? now,
            grantId: row.grant_id,
          }
        : null;
    const polled: PollRow = { result: row.last_poll_result, intervalSeconds: row.interval_seconds, approval };
    return polled;
  }

  /** Deletes requests that expired before `before`; returns how many went. */
  async pruneExpiredBefore(before: number): Promise<number> {
    const result = await this.#db.prepare("DELETE FROM device_authorizations WHERE expires_at < ?").bind(before).run();
    return result.meta.changes;
  }
}

function toPending(row: PendingRow): PendingDeviceAuthorization {
  return {
    id: row.id,
    userCode: row.user_code,
    clientId: row.client_id,
    scopes: JSON.parse(row.scopes) as string[],
    audiences: JSON.parse(row.audiences) as string[],
    expiresAt: row.expires_at,
  };
}
