/**
 * @module identity/password-change
 * A signed-in user changes their password: the current one must be proven
 * (against the same per-account failure budget and lock as login), the new one
 * must pass the policy, and then every session ends — the route starts a fresh
 * one for the caller.
 */
import { AuthError } from "../app/errors/codes";
import type { RequestContext } from "../app/request-context";
import type { SecondFactorProof, SecondFactors } from "../authn/mfa/second-factors";
import type { PasswordProof } from "../authn/password-proof";
import type { AuthenticationResult } from "../authn/types";
import { logEvent } from "../lib/log";
import type { Mailer } from "../mail/mailer";
import { passwordChangedMail } from "../mail/templates";
import type { AccountSessions } from "../sessions/account-sessions";
import { acceptNewPassword, type PasswordPolicy } from "./password-policy";
import { hashPassword, type PasswordHashParams } from "./passwords";
import type { UserStore } from "./user-store";
import type { UserService } from "./users";

export interface PasswordChangeOptions {
  policy: PasswordPolicy;
  users: UserService;
  store: UserStore;
  proof: PasswordProof;
  sessions: AccountSessions;
  mailer: Mailer;
  passwords: PasswordHashParams;
  publicUrl: string;
  /** With two-step login on, a change also needs a current code. */
  factors: SecondFactors;
}

export class PasswordChangeService {
  readonly #o: PasswordChangeOptions;

  constructor(options: PasswordChangeOptions) {
    this.#o = options;
  }

  /**
   * Returns the user as changed, authenticated by the password just set; every
   * earlier session is gone, so the route starts a new one.
   */
  async change(
    userId: string,
    currentPassword: string,
    newPassword: string,
    proof: SecondFactorProof,
    ctx: RequestContext,
  ): Promise<AuthenticationResult> {
    const { now } = ctx;
    const user = await this.#o.users.requireActive(userId);
    // Policy first: a weak new password costs no attempt and changes nothing.
    const password = acceptNewPassword(newPassword, this.#o.policy);

    // A stolen access token must not become a way to guess the password faster
    // than login allows: the same budget and lock apply.
    const secondFactorFollows = user.mfa_enabled === 1;
    if (!(await this.#o.proof.check(user.email, currentPassword, user.password_hash, ctx, { secondFactorFollows }))) {
      ctx.audit.record("password_change_failed", user.id, { reason: "wrong_password" }, now);
      throw new AuthError("wrong_password", "the current password is incorrect");
    }
    const secondFactor = await this.#o.factors.stepUp(user, proof, ctx);

    const newHash = await hashPassword(password, this.#o.passwords);
    // Compare-and-set against the hash we just verified: a concurrent change wins, not both.
    if (!(await this.#o.store.replacePasswordHash(user.id, user.password_hash, newHash, now))) {
      throw new AuthError("conflict", "the password was changed concurrently; try again");
    }
    // Every session ends (the old password may be why it is being changed);
    // the caller continues in a new one.
    // The cut-off is taken after the new hash is in place: a login with the old
    // password that raced this change started earlier, so it ends with the rest.
    await this.#o.sessions.endAll(user.id, Math.max(now, Date.now()));
    // Re-read: the new session's tokens must start at or after the marker just set.
    const changed = await this.#o.users.requireActive(user.id);
    ctx.audit.record("password_changed", user.id, {}, now);
    await this.#o.mailer.send(passwordChangedMail(user.email, this.#o.publicUrl, now)).catch((error: unknown) => {
      logEvent("error", "mail_failed", { subject: "password changed", error: String(error) });
    });
    return { user: changed, amr: ["pwd", ...secondFactor], authTime: Date.now() };
  }
}
