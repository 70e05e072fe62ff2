/**
 * @module identity/signup
 * Signup with an email and a password. With email verification on (the
 * default), the answer is the same whether or not the address is taken, and
 * an existing account stays exactly as it is.
 */
import { AuthError, invalidRequest } from "../app/errors/codes";
import type { RequestContext } from "../app/request-context";
import { randomId } from "../lib/crypto/random";
import { emailKey, isValidEmail, normalizeEmail } from "../lib/email";
import { logEvent } from "../lib/log";
import type { Mailer, MailMessage } from "../mail/mailer";
import { signupAttemptMail } from "../mail/templates";
import type { EmailVerification } from "./email-verification";
import { acceptNewPassword, type PasswordPolicy } from "./password-policy";
import { hashPassword, type PasswordHashParams } from "./passwords";
import type { UserRecord, UserStore } from "./user-store";

export interface SignupOptions {
  policy: PasswordPolicy;
  store: UserStore;
  verification: EmailVerification;
  mailer: Mailer;
  publicUrl: string;
  requireEmailVerification: boolean;
  passwords: PasswordHashParams;
}

export type SignupResult =
  | { kind: "verification_required"; userId: string; existingAccount: boolean }
  | { kind: "created"; user: UserRecord };

export class SignupService {
  readonly #o: SignupOptions;

  constructor(options: SignupOptions) {
    this.#o = options;
  }

  async signup(rawEmail: string, rawPassword: string, ctx: RequestContext): Promise<SignupResult> {
    const { now } = ctx;
    const email = normalizeEmail(rawEmail);
    if (!isValidEmail(email)) throw invalidRequest("email is not a valid email address");
    const password = acceptNewPassword(rawPassword, this.#o.policy);
    // Hash before looking at whether the email exists, so both answers take the same time.
    const passwordHash = await hashPassword(password, this.#o.passwords);
    const verified = !this.#o.requireEmailVerification;
    const id = randomId();
    const key = emailKey(email);
    const inserted = await this.#o.store.insert({
      id,
      email,
      emailKey: key,
      passwordHash,
      emailVerifiedAt: verified ? now : null,
      now,
    });

    if (verified) {
      // Documented trade-off: without verification there is no mail to hide behind,
      // so a taken address is reported (this mode enumerates accounts).
      if (!inserted) throw new AuthError("email_taken", "an account with this email already exists");
      const user = await this.#o.store.findById(id);
      if (!user) throw new Error("user vanished after insert");
      return { kind: "created", user };
    }
    if (inserted) {
      await this.#send(await this.#o.verification.linkMail(id, email, passwordHash, now, { repeated: false }));
      return { kind: "verification_required", userId: id, existingAccount: false };
    }
    // No enumeration: the same answer as a new signup, and the existing account
    // stays exactly as it is. A still-unverified account gets a mail that says a
    // new signup was attempted, with a link that only this signup's password
    // confirms (and then installs); a verified one only tells its owner about it.
    // Mail goes to the account's stored address, never to the one just typed:
    // the two are one address by key, but only the stored one is the account's.
    const existing = await this.#o.store.findByEmail(key, email);
    const to = existing?.email ?? email;
    if (existing && existing.email_verified_at === null) {
      const link = await this.#o.verification.linkMail(existing.id, to, passwordHash, now, { repeated: true });
      await this.#send(link);
    } else {
      await this.#send(signupAttemptMail(to, this.#o.publicUrl));
    }
    return { kind: "verification_required", userId: existing?.id ?? id, existingAccount: true };
  }

  /**
   * A mail failure must not change the signup answer: an error only for new (or
   * only for existing) addresses would enumerate accounts. It is logged instead.
   */
  async #send(message: MailMessage): Promise<void> {
    try {
      await this.#o.mailer.send(message);
    } catch (error) {
      logEvent("error", "mail_failed", { subject: message.subject, error: String(error) });
    }
  }
}
