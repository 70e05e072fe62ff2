/**
 * @module authn/mfa/second-factors
 * `SecondFactors`: what a user with MFA on must show besides the password — a
 * TOTP code or a recovery code — at login and before sensitive actions
 * (step-up). Every check runs against the account's failure budget, like a
 * password: a wrong code is a failure, and the lock and its backoff apply.
 * Using a recovery code mails the owner and is audited.
 */
import { AuthError, tooManyRequests } from "../../app/errors/codes";
import type { RequestContext } from "../../app/request-context";
import type { UserRecord } from "../../identity/user-store";
import type { Mailer } from "../../mail/mailer";
import { recoveryCodeUsedMail } from "../../mail/templates";
import type { AttemptBudget } from "../attempt-budget";
import type { RecoveryCodes } from "./recovery-codes";
import type { TotpAuthenticators } from "./totp";

/** The second factor a request carries (`code` or `recovery_code` in its body). */
export interface SecondFactorProof {
  code?: string;
  recoveryCode?: string;
}

export type ProofOutcome = { ok: true; amr: string[] } | { ok: false; reason: string };

export const MFA_METHODS = ["totp", "recovery_code"];

export interface SecondFactorsOptions {
  totp: TotpAuthenticators;
  recovery: RecoveryCodes;
  budget: AttemptBudget;
  mailer: Mailer;
  publicUrl: string;
}

export class SecondFactors {
  readonly #o: SecondFactorsOptions;

  constructor(options: SecondFactorsOptions) {
    this.#o = options;
  }

  get totp(): TotpAuthenticators {
    return this.#o.totp;
  }

  get recovery(): RecoveryCodes {
    return this.#o.recovery;
  }

  /** The methods a login of `user` must pass one of; none when MFA is off. */
  methodsFor(user: UserRecord): string[] {
    return user.mfa_enabled === 1 ? MFA_METHODS : [];
  }

  /**
   * Checks the proof (no budget: the caller runs one). RFC 8176 `amr`: `otp`
   * for a TOTP code; a recovery code adds nothing but `mfa`, added by the caller.
   */
  async check(user: UserRecord, proof: SecondFactorProof, ctx: RequestContext): Promise<ProofOutcome> {
    if (proof.code !== undefined) {
      return (await this.#o.totp.verify(user.id, proof.code, ctx.now))
        ? { ok: true, amr: ["otp"] }
        : { ok: false, reason: "wrong_totp" };
    }
    if (proof.recoveryCode !== undefined) {
      if (!(await this.#o.recovery.spend(user.id, proof.recoveryCode, ctx.now))) {
        return { ok: false, reason: "wrong_recovery_code" };
      }
      ctx.defer(this.#announceRecoveryCode(user, ctx), "recovery_code_notice", { user_id: user.id });
      return { ok: true, amr: [] };
    }
    return { ok: false, reason: "no_second_factor" };
  }

  /**
   * Step-up before a sensitive action: a user with MFA on must send a current
   * code (or a recovery code) with the request. Returns what it proved (`amr`).
   */
  async stepUp(user: UserRecord, proof: SecondFactorProof, ctx: RequestContext): Promise<string[]> {
    if (user.mfa_enabled !== 1) return [];
    if (proof.code === undefined && proof.recoveryCode === undefined) {
      throw new AuthError("mfa_required", "this account uses two-step login: send code (or recovery_code) as well");
    }
    const attempt = await this.#o.budget.reserve(user.email, null, ctx.now);
    if (!attempt.account.allowed) {
      await attempt.abandon();
      throw tooManyRequests(attempt.account.retryAfterMs);
    }
    let outcome: ProofOutcome;
    try {
      outcome = await this.check(user, proof, ctx);
    } catch (error) {
      await attempt.abandon();
      throw error;
    }
    await attempt.settle(outcome.ok ? "success" : "failure");
    if (!outcome.ok) {
      ctx.audit.record("mfa_failed", user.id, { reason: outcome.reason, step_up: true }, ctx.now);
      throw new AuthError("wrong_second_factor", "the code is incorrect");
    }
    return [...outcome.amr, "mfa"];
  }

  async #announceRecoveryCode(user: UserRecord, ctx: RequestContext): Promise<void> {
    const remaining = await this.#o.recovery.remaining(user.id);
    ctx.audit.record("mfa_recovery_code_used", user.id, { remaining }, ctx.now);
    await this.#o.mailer.send(recoveryCodeUsedMail(user.email, this.#o.publicUrl, remaining, ctx.now, ctx.meta.ip));
  }
}
