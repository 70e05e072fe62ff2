/**
 * @module services/audit
 * Security audit events. Writing one never delays or fails the request: the
 * D1 insert runs after the response (waitUntil) and its errors are only logged.
 */

import { logEvent } from "../lib/log";
import type { AuditLogStore, AuditRecord } from "./audit-store";

export type AuditEvent =
  | "signup"
  | "email_verified"
  | "login_succeeded"
  | "login_failed"
  | "login_locked"
  | "captcha_failed"
  | "refresh_token_reused"
  | "logout"
  | "logout_all"
  | "new_device_login"
  | "password_reset_requested"
  | "password_reset_completed"
  | "password_reset_failed"
  | "rate_limited"
  | "password_changed"
  | "password_change_failed"
  | "csrf_failed"
  | "session_revoked"
  | "user_disabled"
  | "user_enabled"
  | "role_assigned"
  | "role_removed"
  | "api_key_created"
  | "api_key_revoked";

/** Who made the request: filled in once per request by the app. */
export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  country: string | null;
  requestId: string | null;
}

export class AuditLog {
  readonly #store: AuditLogStore;
  readonly #meta: RequestMeta;
  readonly #waitUntil: (promise: Promise<unknown>) => void;

  constructor(store: AuditLogStore, meta: RequestMeta, waitUntil: (promise: Promise<unknown>) => void) {
    this.#store = store;
    this.#meta = meta;
    this.#waitUntil = waitUntil;
  }

  record(event: AuditEvent, userId: string | null, details: Record<string, unknown> = {}, now = Date.now()): void {
    const write = this.#store.insert(this.entry(event, userId, details, now)).catch((error: unknown) => {
      this.#failed(event, error);
    });
    this.#waitUntil(write);
  }

  /** The row `record` would write, for a caller that writes it in a batch of its own. */
  entry(
    event: AuditEvent,
    userId: string | null,
    details: Record<string, unknown> = {},
    now = Date.now(),
  ): AuditRecord {
    return { createdAt: now, event, userId, ...this.#meta, details };
  }

  /** Logs an audit row that could not be written (it never fails the request). */
  #failed(event: AuditEvent, error: unknown): void {
    logEvent("error", "audit_write_failed", {
      request_id: this.#meta.requestId,
      audit_event: event,
      error: String(error),
    });
  }
}
