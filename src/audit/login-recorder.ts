/**
 * @module audit/login-recorder
 * What a successful login leaves behind, after the response: its audit row and
 * its device (one D1 batch), and a mail to the owner when the device was not
 * seen before.
 */
import type { RequestContext } from "../app/request-context";
import type { UserRecord } from "../identity/user-store";
import { deviceLabel } from "../lib/device";
import { logEvent } from "../lib/log";
import type { Mailer } from "../mail/mailer";
import { newDeviceMail } from "../mail/templates";
import type { AuditStore } from "./audit-store";

/** How stale a known device's `last_seen_at` may get before a login rewrites it. */
const DEVICE_TOUCH_MS = 3_600_000;

export interface LoginRecorderOptions {
  store: AuditStore;
  mailer: Mailer;
  publicUrl: string;
}

export class LoginRecorder {
  readonly #o: LoginRecorderOptions;

  constructor(options: LoginRecorderOptions) {
    this.#o = options;
  }

  /** Audits the login and records its device; never throws (failures are logged). */
  async recordSuccess(user: UserRecord, amr: readonly string[], ctx: RequestContext): Promise<void> {
    const { now, meta, audit } = ctx;
    const device = deviceLabel(meta.userAgent, meta.country);
    const entry = audit.entry("login_succeeded", user.id, { amr }, now);
    let seen: { isNew: boolean };
    try {
      seen = await this.#o.store.recordLogin(entry, device, DEVICE_TOUCH_MS);
    } catch (error) {
      // The audit row must not depend on the device bookkeeping: write it alone.
      logEvent("error", "login_record_failed", { user_id: user.id, error: String(error) });
      audit.record("login_succeeded", user.id, { amr }, now);
      return;
    }
    // Every device not seen before is announced, the first one too: an account
    // whose address its owner confirmed by mistake for someone else's signup
    // shows that first sign-in to the mailbox owner.
    if (!seen.isNew) return;
    audit.record("new_device_login", user.id, { device }, now);
    try {
      await this.#o.mailer.send(newDeviceMail(user.email, this.#o.publicUrl, device, meta.ip, now));
    } catch (error) {
      // The login itself succeeded; a failed notice is logged, not surfaced.
      logEvent("error", "new_device_notice_failed", { user_id: user.id, error: String(error) });
    }
  }
}
