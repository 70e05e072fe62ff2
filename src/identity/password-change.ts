/**
 * @module services/password-change
 * A signed-in user changes their password: the current one must be proven
 * (against the same per-account failure budget and lock as login), the new one
 * must pass the policy, and then every session ends — the route starts a fresh
 * one for the caller.
 */

import { AuthError, invalidToken } from "../app/errors/codes";
import type { AuditLog } from "../audit/audit-log";
import { accountKey, tooManyRequests } from "../authn/login-flow";
import { logEvent } from "../lib/log";
import type { AttemptPolicy } from "../limits/rate-limiter-object";
import type { RateLimiterClient } from "../limits/rate-limiter-store";
import type { Mailer } from "../mail/mailer";
import { passwordChangedMail } from "../mail/templates";
import type { SessionService } from "../sessions/refresh-sessions";
import type { AccountService } from "./accounts";
import { acceptNewPassword } from "./password-policy";
import { hashPassword, type PasswordHashParams } from "./passwords";
import type { UserRecord, UserStore } from "./user-store";

export interface PasswordChangeSettings {
  lockout: AttemptPolicy;
  passwords: PasswordHashParams;
  publicUrl: string;
}

export class PasswordChangeService {
  readonly #users: UserStore;
  readonly #accounts: AccountService;
  readonly #sessions: SessionService;
  readonly #limiter: RateLimiterClient;
  readonly #mailer: Mailer;
  readonly #settings: PasswordChangeSettings;

  constructor(
    users: UserStore,
    accounts: AccountService,
    sessions: SessionService,
    limiter: RateLimiterClient,
    mailer: Mailer,
    settings: PasswordChangeSettings,
  ) {
    this.#users = users;
    this.#accounts = accounts;
    this.#sessions = sessions;
    this.#limiter = limiter;
    this.#mailer = mailer;
    this.#settings = settings;
  }

  /** Returns the user as changed; every earlier session is gone, so the route starts a new one. */
  async change(
    userId: string,
    currentPassword: string,
    newPassword: string,
    audit: AuditLog,
    now: number,
  ): Promise<UserRecord> {
    const user = await this.#users.findById(userId);
    if (!user || user.disabled_at !== null)
      throw invalidToken("the access token's user no longer exists or is disabled");
    // Policy first: a weak new password costs no attempt and changes nothing.
    const password = acceptNewPassword(newPassword);

    // A stolen access token must not become a way to guess the password faster
    // than login allows: the same budget and lock apply.
    const attempt = await this.#limiter.reserve(accountKey(user.email), this.#settings.lockout, now);
    if (!attempt.decision.allowed) throw tooManyRequests(attempt.decision.retryAfterMs);
    const check = await this.#accounts
      .checkCredentials(user.email, currentPassword, now)
      .catch(async (error: unknown) => {
        await attempt.settle("abandon").catch(() => {});
        throw error;
      });
    if (!check.ok) {
      await attempt.settle("failure");
      audit.record("password_change_failed", user.id, { reason: check.reason }, now);
      throw new AuthError(403, "invalid_credentials", "the current password is incorrect");
    }
    await attempt.settle("success");

    const newHash = await hashPassword(password, this.#settings.passwords);
    // Compare-and-set against the hash we just verified (it may have been re-hashed
    // by checkCredentials, so read it again): a concurrent change wins, not both.
    const current = await this.#users.findById(user.id);
    if (!current || !(await this.#users.replacePasswordHash(user.id, current.password_hash, newHash, now))) {
      throw new AuthError(409, "invalid_request", "the password was changed concurrently; try again");
    }
    // Every session ends (the old password may be why it is being changed);
    // the caller continues in a new one.
    // The cut-off is taken after the new hash is in place: a login with the old
    // password that raced this change started earlier, so it ends with the rest.
    await this.#sessions.logoutAll(user.id, Math.max(now, Date.now()));
    // Re-read: the new session's tokens must start at or after the marker just set.
    const changed = await this.#users.findById(user.id);
    if (!changed) throw invalidToken("the access token's user no longer exists or is disabled");
    audit.record("password_changed", user.id, {}, now);
    await this.#mailer.send(passwordChangedMail(user.email, this.#settings.publicUrl, now)).catch((error: unknown) => {
      logEvent("error", "mail_failed", { subject: "password changed", error: String(error) });
    });
    return changed;
  }
}
