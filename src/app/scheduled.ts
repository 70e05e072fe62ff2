/**
 * @module scheduled
 * The cron trigger (wrangler.toml `[triggers]`): prunes audit rows older than
 * AUDIT_RETENTION_DAYS, sessions that ended more than a week ago, and
 * verification and reset tokens expired for more than a day.
 */

import { AuditLogStore } from "../audit/audit-store";
import { PasswordResetTokenStore } from "../identity/password-reset-token-store";
import { VerificationTokenStore } from "../identity/verification-token-store";
import { logEvent } from "../lib/log";
import { SessionStore } from "../sessions/session-store";
import { getConfig } from "./config";

export async function runScheduled(env: Env, now: number): Promise<void> {
  const config = getConfig(env);
  const before = now - config.auditRetentionDays * 86_400_000;
  const deleted = await new AuditLogStore(env.DB).pruneBefore(before);
  logEvent("info", "audit_pruned", { deleted, before: new Date(before).toISOString() });
  // Sessions that ended (or were revoked) over a week ago, and one-time tokens
  // expired for over a day, are of no use to anyone.
  const week = now - 7 * 86_400_000;
  const day = now - 86_400_000;
  const [sessions, verification, reset] = await Promise.all([
    new SessionStore(env.DB).pruneEndedBefore(week),
    new VerificationTokenStore(env.DB).pruneExpiredBefore(day),
    new PasswordResetTokenStore(env.DB).pruneExpiredBefore(day),
  ]);
  logEvent("info", "pruned", { sessions, verification_tokens: verification, password_reset_tokens: reset });
}
