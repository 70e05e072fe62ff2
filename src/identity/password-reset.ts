/**
 * @module services/password-reset
 * "Forgot password": a mailed single-use link (1 h) that sets a new password.
 * Requesting answers the same whether or not the email has an account. A
 * completed reset ends every session of the user and lifts any login lock.
 */

import { invalidGrant } from "../app/errors/codes";
import { accountKey } from "../authn/login-flow";
import { sha256Hex } from "../lib/crypto/digest";
import { randomToken } from "../lib/crypto/random";
import { normalizeEmail } from "../lib/email";
import { logEvent } from "../lib/log";
import type { RateLimiterClient } from "../limits/rate-limiter-store";
import type { Mailer } from "../mail/mailer";
import { passwordChangedMail, passwordResetMail } from "../mail/templates";
import type { SessionService } from "../sessions/refresh-sessions";
import { acceptNewPassword } from "./password-policy";
import type { PasswordResetTokenStore } from "./password-reset-token-store";
import { hashPassword, type PasswordHashParams } from "./passwords";
import type { UserRecord, UserStore } from "./user-store";

export interface PasswordResetSettings {
  publicUrl: string;
  tokenTtlSeconds: number;
  passwords: PasswordHashParams;
}

export class PasswordResetService {
  readonly #users: UserStore;
  readonly #tokens: PasswordResetTokenStore;
  readonly #sessions: SessionService;
  readonly #limiter: RateLimiterClient;
  readonly #mailer: Mailer;
  readonly #settings: PasswordResetSettings;

  constructor(
    users: UserStore,
    tokens: PasswordResetTokenStore,
    sessions: SessionService,
    limiter: RateLimiterClient,
    mailer: Mailer,
    settings: PasswordResetSettings,
  ) {
    this.#users = users;
    this.#tokens = tokens;
    this.#sessions = sessions;
    this.#limiter = limiter;
    this.#mailer = mailer;
    this.#settings = settings;
  }

  /**
   * Mails a reset link if the account exists and is enabled, returning its id for
   * the audit log. The token insert and the mail run in `background` (after the
   * response), so a known address answers as fast as an unknown one.
   */
  async request(rawEmail: string, now: number, background: (work: Promise<unknown>) => void): Promise<string | null> {
    const user = await this.#users.findByEmail(normalizeEmail(rawEmail));
    if (!user || user.disabled_at !== null) return null;
    background(this.#sendLink(user, now));
    return user.id;
  }

  async #sendLink(user: UserRecord, now: number): Promise<void> {
    const token = randomToken(32);
    const ttl = this.#settings.tokenTtlSeconds;
    try {
      await this.#tokens.insert(await sha256Hex(token), user.id, now + ttl * 1000, now);
      await this.#mailer.send(passwordResetMail(user.email, this.#settings.publicUrl, token, ttl));
    } catch (error) {
      logEvent("error", "password_reset_mail_failed", { user_id: user.id, error: String(error) });
    }
  }

  /** Sets the new password; the policy is checked before the token is touched, so a weak password spends nothing. */
  async complete(token: string, newPassword: string, now: number): Promise<UserRecord> {
    const password = acceptNewPassword(newPassword);
    const hash = await hashPassword(password, this.#settings.passwords);
    const userId = await this.#tokens.completeReset(await sha256Hex(token), hash, now);
    const user = userId ? await this.#users.findById(userId) : null;
    if (!user || user.disabled_at !== null) throw invalidGrant("the reset token is invalid, expired or already used");
    // The password is changed and committed. What follows must not turn that into
    // an error answer (a retry would only see a spent link), so each step is
    // best effort: a failure is logged and the rest still runs.
    const followUps: [string, () => Promise<unknown>][] = [
      ["delete_reset_tokens", () => this.#tokens.deleteForUser(user.id)],
      // Every session dies (a reset usually means the old password leaked) ...
      ["end_sessions", () => this.#sessions.logoutAll(user.id, now)],
      // ... and a lock on the account lifts: its owner has just proven control of the address.
      ["unlock_account", () => this.#limiter.reset(accountKey(user.email))],
      ["mail_owner", () => this.#mailer.send(passwordChangedMail(user.email, this.#settings.publicUrl, now))],
    ];
    await Promise.all(
      followUps.map(([step, run]) =>
        run().catch((error: unknown) =>
          logEvent("error", "password_reset_follow_up_failed", { user_id: user.id, step, error: String(error) }),
        ),
      ),
    );
    return user;
  }
}
