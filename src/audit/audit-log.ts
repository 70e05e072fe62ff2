/**
 * @module audit/audit-log
 * Security audit events of one request. Writing one never delays or fails the
 * request: the D1 insert is deferred until after the response, and a failed
 * write is logged (RequestContext.defer).
 */
import type { Defer, RequestMeta } from "../app/request-context";
import { logEvent } from "../lib/log";
import type { AuditRecord, AuditStore } from "./audit-store";

export type AuditEvent =
  | "signup"
  | "email_verified"
  | "email_verification_failed"
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
  | "magic_link_requested"
  | "magic_link_signup"
  | "passkey_registered"
  | "passkey_renamed"
  | "passkey_deleted"
  | "passkey_counter_regressed"
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
  | "api_key_revoked"
  | "api_key_rotated"
  | "oauth_client_created"
  | "oauth_client_updated"
  | "oauth_client_secret_rotated"
  | "oauth_client_deleted"
  | "oauth_client_auth_failed"
  | "oauth_client_locked"
  | "oauth_code_replayed"
  | "oauth_consent_granted"
  | "oauth_consent_revoked"
  | "oauth_device_approved"
  | "oauth_device_denied"
  | "oauth_registration_token_minted"
  | "mfa_enrolment_started"
  | "mfa_enabled"
  | "mfa_disabled"
  | "mfa_reset_by_admin"
  | "mfa_failed"
  | "mfa_recovery_code_used"
  | "mfa_recovery_codes_regenerated";

export interface AuditLogOptions {
  store: AuditStore;
  meta: RequestMeta;
  defer: Defer;
}

export class AuditLog {
  readonly #o: AuditLogOptions;

  constructor(options: AuditLogOptions) {
    this.#o = options;
  }

  record(event: AuditEvent, userId: string | null, details: Record<string, unknown> = {}, now = Date.now()): void {
    this.#o.defer(this.#o.store.insert(this.entry(event, userId, details, now)), "audit_write", { audit_event: event });
  }

  /**
   * An anonymous refusal (over a rate limit, a locked account), the
   * `refusedInARow`-th of its key in a row: the first becomes an audit row, the
   * rest a log line, so nobody can make the audit log grow a row per request.
   */
  recordRefusal(event: AuditEvent, refusedInARow: number, details: Record<string, unknown>, now = Date.now()): void {
    if (refusedInARow <= 1) {
      this.record(event, null, details, now);
      return;
    }
    logEvent("warn", event, { ...details, refused_in_a_row: refusedInARow, request_id: this.#o.meta.requestId });
  }

  /** The row `record` would write, for a caller that writes it in a batch of its own. */
  entry(
    event: AuditEvent,
    userId: string | null,
    details: Record<string, unknown> = {},
    now = Date.now(),
  ): AuditRecord {
    return { createdAt: now, event, userId, ...this.#o.meta, details };
  }
}
