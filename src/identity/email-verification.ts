/**
 * @module identity/email-verification
 * Proving control of an address: a mailed single-use link (a one-time secret
 * of purpose "email_verification") that is confirmed with the password chosen
 * in the signup that sent it. So the mailbox owner can never adopt a password
 * they do not know: a link from someone else's signup for their address
 * (before or after their own) is useless to them and to the other signer alike,
 * and confirming installs exactly the password that was proven.
 */
import { AuthError, invalidGrant } from "../app/errors/codes";
import type { RequestContext } from "../app/request-context";
import type { PasswordProof } from "../authn/password-proof";
import type { MailMessage } from "../mail/mailer";
import { verificationMail } from "../mail/templates";
import type { OneTimeSecrets } from "../one-time-secrets/one-time-secrets";
import type { UserRecord, UserStore } from "./user-store";

export interface EmailVerificationOptions {
  store: UserStore;
  secrets: OneTimeSecrets;
  /** Checks the password under login's budget: a wrong one here is a guess at the account's password. */
  proof: PasswordProof;
  publicUrl: string;
  ttlSeconds: number;
}

const INVALID_LINK = "the verification token is invalid, expired or already used";

export class EmailVerification {
  readonly #o: EmailVerificationOptions;

  constructor(options: EmailVerificationOptions) {
    this.#o = options;
  }

  /**
   * Issues a link for `userId` bound to `passwordHash` (the signup's password)
   * and returns the mail that carries it; the caller sends it. `repeated`: a
   * signup for an address whose account is still unconfirmed.
   */
  async linkMail(
    userId: string,
    email: string,
    passwordHash: string,
    now: number,
    options: { repeated: boolean },
  ): Promise<MailMessage> {
    const token = await this.#o.secrets.issue({
      purpose: "email_verification",
      userId,
      payload: { password_hash: passwordHash },
      ttlMs: this.#o.ttlSeconds * 1000,
      now,
    });
    return verificationMail(email, this.#o.publicUrl, token, this.#o.ttlSeconds, options);
  }

  /**
   * Confirms the address if `password` is the one chosen in the signup that
   * sent the link. A wrong password counts against the account's login budget
   * and spends nothing; a right one spends the link, marks the address verified
   * and installs that password.
   */
  async verify(token: string, password: string, ctx: RequestContext): Promise<UserRecord> {
    const { now } = ctx;
    const live = await this.#o.secrets.peek(token, "email_verification", now);
    const user = live?.userId ? await this.#o.store.findById(live.userId) : null;
    const pending = live?.payload?.password_hash;
    // Links from before they were bound to a password prove the account's password as it is.
    const expected = typeof pending === "string" ? pending : (user?.password_hash ?? null);
    if (!user || expected === null) throw invalidGrant(INVALID_LINK);
    await this.#checkPassword(user, password, expected, ctx);
    if (!(await this.#o.secrets.spend(token, "email_verification", now))) throw invalidGrant(INVALID_LINK);
    await this.#o.store.completeVerification(user.id, expected, now);
    // The address is proven: every other outstanding link for it dies, including
    // any sent by someone else's signup attempt.
    await this.#o.secrets.revokeAll(user.id, "email_verification");
    const verified = await this.#o.store.findById(user.id);
    if (!verified) throw invalidGrant(INVALID_LINK);
    return verified;
  }

  async #checkPassword(user: UserRecord, password: string, expected: string, ctx: RequestContext): Promise<void> {
    if (await this.#o.proof.check(user.email, password, expected, ctx)) return;
    ctx.audit.record("email_verification_failed", user.id, { reason: "wrong_password" }, ctx.now);
    throw new AuthError("invalid_credentials", "the password is not the one chosen in the signup that sent this link");
  }
}
