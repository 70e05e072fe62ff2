/**
 * @module identity/password-reset
 * "Forgot password": a mailed single-use link (a one-time secret of purpose
 * "password_reset") that sets a new password. Requesting answers the same
 * whether or not the email has an account. A completed reset ends every
 * credential of the user (sessions, access tokens, API keys) and lifts any login lock.
 */
import type { ApiKeyStore } from "../api-keys/api-key-store";
import { invalidGrant } from "../app/errors/codes";
import type { RequestContext } from "../app/request-context";
import type { AttemptBudget } from "../authn/attempt-budget";
import type { SecondFactorProof, SecondFactors } from "../authn/mfa/second-factors";
import { logEvent } from "../lib/log";
import type { Mailer } from "../mail/mailer";
import { passwordResetCompletedMail, passwordResetMail } from "../mail/templates";
import type { OneTimeSecrets } from "../one-time-secrets/one-time-secrets";
import type { AccountSessions } from "../sessions/account-sessions";
import { acceptNewPassword, type PasswordPolicy } from "./password-policy";
import { hashPassword, type PasswordHashParams } from "./passwords";
import type { UserRecord, UserStore } from "./user-store";
import type { UserService } from "./users";

export interface PasswordResetOptions {
  policy: PasswordPolicy;
  users: UserService;
  store: UserStore;
  secrets: OneTimeSecrets;
  sessions: AccountSessions;
  budget: AttemptBudget;
  apiKeyStore: ApiKeyStore;
  mailer: Mailer;
  publicUrl: string;
  tokenTtlSeconds: number;
  passwords: PasswordHashParams;
  /** A reset does not turn two-step login off: with it on, the reset also needs a current code. */
  factors: SecondFactors;
}

export class PasswordResetService {
  readonly #o: PasswordResetOptions;

  constructor(options: PasswordResetOptions) {
    this.#o = options;
  }

  /**
   * Mails a reset link if the account exists and is enabled, returning its id for
   * the audit log. The link is issued and mailed after the response, so a known
   * address answers as fast as an unknown one.
   */
  async request(rawEmail: string, ctx: RequestContext): Promise<string | null> {
    const user = await this.#o.users.findByEmail(rawEmail);
    if (!user || user.disabled_at !== null) return null;
    ctx.defer(this.#sendLink(user, ctx.now), "password_reset_mail", { user_id: user.id });
    return user.id;
  }

  async #sendLink(user: UserRecord, now: number): Promise<void> {
    const ttl = this.#o.tokenTtlSeconds;
    const token = await this.#o.secrets.issue({ purpose: "password_reset", userId: user.id, ttlMs: ttl * 1000, now });
    await this.#o.mailer.send(passwordResetMail(user.email, this.#o.publicUrl, token, ttl));
  }

  /**
   * Sets the new password. The policy, and the second factor of an account with
   * two-step login, are checked before the token is spent: a weak password or a
   * wrong code spends nothing.
   */
  async complete(
    token: string,
    newPassword: string,
    proof: SecondFactorProof,
    ctx: RequestContext,
  ): Promise<UserRecord> {
    const { now } = ctx;
    const password = acceptNewPassword(newPassword, this.#o.policy);
    const owner = await this.#o.secrets.peek(token, "password_reset", now);
    const ownerRecord = owner?.userId ? await this.#o.users.findById(owner.userId) : null;
    if (ownerRecord) await this.#o.factors.stepUp(ownerRecord, proof, ctx);
    const hash = await hashPassword(password, this.#o.passwords);
    // One transaction: the token is spent exactly when the password changes, every
    // earlier session is voided and every API key revoked; none without the others.
    const spent = await this.#o.secrets.spendWith(token, "password_reset", now, [
      (userIdSql, params) => this.#o.store.resetPasswordStatement(userIdSql, params, hash, now),
      (userIdSql, params) => this.#o.apiKeyStore.revokeAllStatement(userIdSql, params, now),
    ]);
    const userId = spent?.secret.userId;
    const user = userId ? await this.#o.users.findById(userId) : null;
    if (!spent || !user || user.disabled_at !== null) {
      throw invalidGrant("the reset token is invalid, expired or already used");
    }
    await this.#followUp(user, now, spent.changes[1] ?? 0);
    return user;
  }

  /**
   * The password is changed, every session voided and every API key revoked, in
   * one commit (a reset usually means the old password leaked). What follows
   * must not turn that into an error answer (a retry would only see a spent
   * link), so each step is best effort: a failure is logged and the rest still
   * runs. The mail to the owner says what ended.
   */
  async #followUp(user: UserRecord, now: number, apiKeysRevoked: number): Promise<void> {
    const bestEffort = (step: string, run: () => Promise<unknown>): Promise<unknown> =>
      run().catch((error: unknown) => {
        logEvent("error", "password_reset_follow_up_failed", { user_id: user.id, step, error: String(error) });
      });
    const mail = passwordResetCompletedMail(user.email, this.#o.publicUrl, now, { apiKeysRevoked });
    await Promise.all([
      bestEffort("delete_reset_tokens", () => this.#o.secrets.revokeAll(user.id, "password_reset")),
      // The D1 marker ended every session above; this tells edge verifiers too.
      bestEffort("end_sessions", () => this.#o.sessions.endAll(user.id, now)),
      // A lock on the account lifts: its owner has just proven control of the address.
      bestEffort("unlock_account", () => this.#o.budget.forgive(user.email)),
      bestEffort("mail_owner", () => this.#o.mailer.send(mail)),
    ]);
  }
}
