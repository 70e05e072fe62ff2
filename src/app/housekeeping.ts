/**
 * @module app/housekeeping
 * What the daily cron prunes: audit rows older than AUDIT_RETENTION_DAYS,
 * sessions that ended more than a week ago, and one-time secrets and device
 * authorizations expired for more than a day. None of them is of use to anyone any more.
 */
import type { AuditStore } from "../audit/audit-store";
import { logEvent } from "../lib/log";
import type { DeviceAuthorizationStore } from "../oauth/device/device-authorization-store";
import type { OneTimeSecretStore } from "../one-time-secrets/one-time-secret-store";
import type { SessionStore } from "../sessions/session-store";

const DAY_MS = 86_400_000;

export interface HousekeepingOptions {
  audit: AuditStore;
  sessions: SessionStore;
  secrets: OneTimeSecretStore;
  deviceAuthorizations: DeviceAuthorizationStore;
  auditRetentionDays: number;
}

export class Housekeeping {
  readonly #o: HousekeepingOptions;

  constructor(options: HousekeepingOptions) {
    this.#o = options;
  }

  async run(now: number): Promise<void> {
    const before = now - this.#o.auditRetentionDays * DAY_MS;
    const deleted = await this.#o.audit.pruneBefore(before);
    logEvent("info", "audit_pruned", { deleted, before: new Date(before).toISOString() });
    const [sessions, secrets, devices] = await Promise.all([
      this.#o.sessions.pruneEndedBefore(now - 7 * DAY_MS),
      this.#o.secrets.pruneExpiredBefore(now - DAY_MS),
      // A day on, an expired code answers invalid_grant instead of expired_token: nobody polls that long.
      this.#o.deviceAuthorizations.pruneExpiredBefore(now - DAY_MS),
    ]);
    logEvent("info", "pruned", { sessions, one_time_secrets: secrets, device_authorizations: devices });
  }
}
