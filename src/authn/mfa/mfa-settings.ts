/**
 * @module authn/mfa/mfa-settings
 * `MfaSettings`: a user turning two-step login on and off. Enrolment needs a
 * fresh login or the password (step-up) and only takes effect once a first
 * code from the app is valid; confirming answers the recovery codes, once.
 * Turning it off needs the password and a current code. An admin can reset it
 * for a user who lost their authenticator. Every change is audited and mailed.
 */
import { renderSVG } from "uqr";
import { AuthError, invalidGrant } from "../../app/errors/codes";
import type { RequestContext } from "../../app/request-context";
import type { UserService } from "../../identity/users";
import type { Mailer } from "../../mail/mailer";
import { mfaChangedMail } from "../../mail/templates";
import type { PasswordProof } from "../password-proof";
import type { StepUp } from "../step-up";
import type { SecondFactorProof, SecondFactors } from "./second-factors";
import type { TotpStore } from "./totp-store";

export interface MfaStatus {
  totp: boolean;
  recovery_codes_left: number;
}

export interface TotpEnrolmentResponse {
  secret: string;
  otpauth_uri: string;
  qr_svg: string;
}

export interface MfaSettingsOptions {
  users: UserService;
  factors: SecondFactors;
  store: TotpStore;
  stepUp: StepUp;
  proof: PasswordProof;
  mailer: Mailer;
  publicUrl: string;
}

export class MfaSettings {
  readonly #o: MfaSettingsOptions;

  constructor(options: MfaSettingsOptions) {
    this.#o = options;
  }

  async status(userId: string): Promise<MfaStatus> {
    const user = await this.#o.users.requireActive(userId);
    const on = user.mfa_enabled === 1;
    return { totp: on, recovery_codes_left: on ? await this.#o.factors.recovery.remaining(userId) : 0 };
  }

  /** A new pending authenticator; it does nothing until confirmed with a code. */
  async beginTotp(
    userId: string,
    authTime: number | undefined,
    password: string | undefined,
    ctx: RequestContext,
  ): Promise<TotpEnrolmentResponse> {
    await this.#o.stepUp.require(userId, authTime, password, ctx);
    const user = await this.#o.users.requireActive(userId);
    const enrolment = await this.#o.factors.totp.enrol(user.id, user.email, ctx.now);
    if (!enrolment)
      throw new AuthError("conflict", "two-step login is already on: turn it off first to change the app");
    ctx.audit.record("mfa_enrolment_started", user.id, {}, ctx.now);
    return {
      secret: enrolment.secret,
      otpauth_uri: enrolment.otpauthUri,
      qr_svg: renderSVG(enrolment.otpauthUri, { border: 2 }),
    };
  }

  /** Turns the pending authenticator on with its first code; answers the recovery codes, this once. */
  async confirmTotp(userId: string, code: string, ctx: RequestContext): Promise<{ recovery_codes: string[] }> {
    const user = await this.#o.users.requireActive(userId);
    if (!(await this.#o.factors.totp.confirm(user.id, code, ctx.now))) {
      throw invalidGrant("the code is incorrect, or the enrolment expired: start again");
    }
    const codes = await this.#o.factors.recovery.regenerate(user.id, ctx.now);
    ctx.audit.record("mfa_enabled", user.id, { method: "totp" }, ctx.now);
    ctx.defer(this.#o.mailer.send(mfaChangedMail(user.email, this.#o.publicUrl, "enabled", ctx.now)), "mfa_mail");
    return { recovery_codes: codes };
  }

  /** Turns two-step login off: the password and a current code (or a recovery code). */
  async disable(userId: string, password: string, proof: SecondFactorProof, ctx: RequestContext): Promise<void> {
    const user = await this.#o.users.requireActive(userId);
    if (user.mfa_enabled !== 1) throw new AuthError("not_found", "two-step login is not on");
    const checked = this.#o.proof.check(user.email, password, user.password_hash, ctx, { secondFactorFollows: true });
    if (!(await checked)) throw new AuthError("wrong_password", "the password is incorrect");
    await this.#o.factors.stepUp(user, proof, ctx);
    await this.#o.store.removeAll(user.id);
    ctx.audit.record("mfa_disabled", user.id, {}, ctx.now);
    ctx.defer(this.#o.mailer.send(mfaChangedMail(user.email, this.#o.publicUrl, "disabled", ctx.now)), "mfa_mail");
  }

  /** A new set of recovery codes (the old set dies): step-up, and a current code. */
  async regenerateRecoveryCodes(
    userId: string,
    authTime: number | undefined,
    password: string | undefined,
    proof: SecondFactorProof,
    ctx: RequestContext,
  ): Promise<{ recovery_codes: string[] }> {
    await this.#o.stepUp.require(userId, authTime, password, ctx);
    const user = await this.#o.users.requireActive(userId);
    if (user.mfa_enabled !== 1) throw new AuthError("not_found", "two-step login is not on");
    await this.#o.factors.stepUp(user, proof, ctx);
    const codes = await this.#o.factors.recovery.regenerate(user.id, ctx.now);
    ctx.audit.record("mfa_recovery_codes_regenerated", user.id, {}, ctx.now);
    return { recovery_codes: codes };
  }

  /** An admin turns a user's two-step login off (a lost authenticator); the user is mailed. */
  async resetByAdmin(actorId: string, userId: string, ctx: RequestContext): Promise<void> {
    const user = await this.#o.users.requireExisting(userId);
    // A pending, unconfirmed enrolment is not two-step login: nothing to reset, nothing to mail.
    if (user.mfa_enabled !== 1) throw new AuthError("not_found", "the user has no two-step login");
    await this.#o.store.removeAll(user.id);
    ctx.audit.record("mfa_reset_by_admin", user.id, { by: actorId }, ctx.now);
    ctx.defer(
      this.#o.mailer.send(mfaChangedMail(user.email, this.#o.publicUrl, "reset_by_admin", ctx.now)),
      "mfa_mail",
    );
  }
}
