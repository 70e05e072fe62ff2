/**
 * @module scheduled
 * The cron trigger (wrangler.toml `[triggers]`): prunes audit rows older than
 * AUDIT_RETENTION_DAYS and sessions that ended more than a week ago.
 */
import { getConfig } from "./config";
import { logEvent } from "./services/log";
import { AuditLogStore } from "./storage/audit-log";
import { SessionStore } from "./storage/sessions";

export async function runScheduled(env: Env, now: number): Promise<void> {
  const config = getConfig(env);
  const before = now - config.auditRetentionDays * 86_400_000;
  const deleted = await new AuditLogStore(env.DB).pruneBefore(before);
  logEvent("info", "audit_pruned", { deleted, before: new Date(before).toISOString() });
  // Sessions that ended (or were revoked) over a week ago are of no use to anyone.
  const sessions = await new SessionStore(env.DB).pruneEndedBefore(now - 7 * 86_400_000);
  logEvent("info", "sessions_pruned", { deleted: sessions });
}
