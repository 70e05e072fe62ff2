/**
 * @module scheduled
 * The cron trigger (wrangler.toml `[triggers]`): prunes audit rows older than
 * AUDIT_RETENTION_DAYS.
 */
import { getConfig } from "./config";
import { logEvent } from "./services/log";
import { AuditLogStore } from "./storage/audit-log";

export async function runScheduled(env: Env, now: number): Promise<void> {
  const config = getConfig(env);
  const before = now - config.auditRetentionDays * 86_400_000;
  const deleted = await new AuditLogStore(env.DB).pruneBefore(before);
  logEvent("info", "audit_pruned", { deleted, before: new Date(before).toISOString() });
}
