/**
 * @module identity/email-verification
 * Proving control of an address: a mailed single-use link (a one-time secret
 * of purpose "email_verification"). A link sent by a repeated signup for a
 * still-unverified address carries that signup's password hash, applied only
 * if that very link is used.
 */
import { invalidGrant } from "../app/errors/codes";
import type { MailMessage } from "../mail/mailer";
import { verificationMail } from "../mail/templates";
import type { OneTimeSecrets } from "../one-time-secrets/one-time-secrets";
import type { UserRecord, UserStore } from "./user-store";

export interface EmailVerificationOptions {
  store: UserStore;
  secrets: OneTimeSecrets;
  publicUrl: string;
  ttlSeconds: number;
}

export class EmailVerification {
  readonly #o: EmailVerificationOptions;

  constructor(options: EmailVerificationOptions) {
    this.#o = options;
  }

  /**
   * Issues a link for `userId` and returns the mail that carries it (the caller
   * sends it); `pendingPasswordHash` is installed only if that link is used.
   */
  async linkMail(userId: string, email: string, pendingPasswordHash: string | null, now: number): Promise<MailMessage> {
    const token = await this.#o.secrets.issue({
      purpose: "email_verification",
      userId,
      payload: pendingPasswordHash === null ? null : { password_hash: pendingPasswordHash },
      ttlMs: this.#o.ttlSeconds * 1000,
      now,
    });
    return verificationMail(email, this.#o.publicUrl, token, this.#o.ttlSeconds);
  }

  async verify(token: string, now: number): Promise<UserRecord> {
    const spent = await this.#o.secrets.spend(token, "email_verification", now);
    if (!spent?.userId) throw invalidGrant("the verification token is invalid, expired or already used");
    const pending = spent.payload?.password_hash;
    await this.#o.store.completeVerification(spent.userId, typeof pending === "string" ? pending : null, now);
    // The address is proven: every other outstanding link for it dies, including
    // any sent by someone else's signup attempt.
    await this.#o.secrets.revokeAll(spent.userId, "email_verification");
    const user = await this.#o.store.findById(spent.userId);
    if (!user) throw invalidGrant("the verification token is invalid, expired or already used");
    return user;
  }
}
