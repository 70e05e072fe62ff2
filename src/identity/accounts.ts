/**
 * @module services/accounts
 * Signup, email verification and password login. Trusts its inputs to be
 * shape-checked strings (routes do that); applies every semantic rule itself.
 */

import { AuthError, invalidGrant, invalidRequest } from "../app/errors/codes";
import { sha256Hex } from "../lib/crypto/digest";
import { randomId, randomToken } from "../lib/crypto/random";
import { isValidEmail, normalizeEmail } from "../lib/email";
import { logEvent } from "../lib/log";
import type { Mailer, MailMessage } from "../mail/mailer";
import { signupAttemptMail, verificationMail } from "../mail/templates";
import { acceptNewPassword, normalizeLoginPassword } from "./password-policy";
import { hashPassword, type PasswordHashParams, unmatchableHash, verifyPassword } from "./passwords";
import type { UserRecord, UserStore } from "./user-store";
import type { VerificationTokenStore } from "./verification-token-store";

export interface AccountSettings {
  publicUrl: string;
  requireEmailVerification: boolean;
  verificationTokenTtlSeconds: number;
  passwords: PasswordHashParams;
}

export type CredentialCheck =
  | { ok: true; user: UserRecord }
  | { ok: false; reason: "unknown_email" | "wrong_password" | "disabled_account"; userId: string | null };

export type SignupResult =
  | { kind: "verification_required"; userId: string; existingAccount: boolean }
  | { kind: "created"; user: UserRecord };

export class AccountService {
  readonly #users: UserStore;
  readonly #verificationTokens: VerificationTokenStore;
  readonly #mailer: Mailer;
  readonly #settings: AccountSettings;

  constructor(users: UserStore, verificationTokens: VerificationTokenStore, mailer: Mailer, settings: AccountSettings) {
    this.#users = users;
    this.#verificationTokens = verificationTokens;
    this.#mailer = mailer;
    this.#settings = settings;
  }

  async signup(rawEmail: string, rawPassword: string, now: number): Promise<SignupResult> {
    const email = normalizeEmail(rawEmail);
    if (!isValidEmail(email)) throw invalidRequest("email is not a valid email address");
    const password = acceptNewPassword(rawPassword);
    // Hash before looking at whether the email exists, so both answers take the same time.
    const passwordHash = await hashPassword(password, this.#settings.passwords);
    const verified = !this.#settings.requireEmailVerification;
    const id = randomId();
    const inserted = await this.#users.insert({ id, email, passwordHash, emailVerifiedAt: verified ? now : null, now });

    if (!this.#settings.requireEmailVerification) {
      // Documented trade-off: without verification there is no mail to hide behind,
      // so a taken address is reported (this mode enumerates accounts).
      if (!inserted) throw new AuthError(409, "email_taken", "an account with this email already exists");
      const user = await this.#users.findById(id);
      if (!user) throw new Error("user vanished after insert");
      return { kind: "created", user };
    }
    if (inserted) {
      await this.#sendVerification(id, email, null, now);
      return { kind: "verification_required", userId: id, existingAccount: false };
    }
    // No enumeration: the same answer as a new signup, and the existing account
    // stays exactly as it is. A still-unverified account gets a new verification
    // mail whose token carries this signup's password (applied only if that link
    // is used); a verified one only tells its owner about the attempt.
    const existing = await this.#users.findByEmail(email);
    if (existing && existing.email_verified_at === null) {
      await this.#sendVerification(existing.id, email, passwordHash, now);
    } else {
      await this.#sendMail(signupAttemptMail(email, this.#settings.publicUrl));
    }
    return { kind: "verification_required", userId: existing?.id ?? id, existingAccount: true };
  }

  async verifyEmail(token: string, now: number): Promise<UserRecord> {
    const spent = await this.#verificationTokens.consume(await sha256Hex(token), now);
    if (!spent) throw invalidGrant("the verification token is invalid, expired or already used");
    await this.#users.completeVerification(spent.user_id, spent.password_hash, now);
    // The address is proven: every other outstanding link for it dies, including
    // any sent by someone else's signup attempt.
    await this.#verificationTokens.deleteForUser(spent.user_id);
    const user = await this.#users.findById(spent.user_id);
    if (!user) throw invalidGrant("the verification token is invalid, expired or already used");
    return user;
  }

  /**
   * Checks email and password. Unknown email, wrong password and disabled account
   * cost the same PBKDF2 work and differ only in the internal `reason`, which
   * callers may audit but never send. Email verification is the caller's call.
   * `found`: the account as `findLoginUser` read it, for callers that start that
   * read early (beside their rate-limit check).
   */
  async checkCredentials(
    rawEmail: string,
    rawPassword: string,
    now: number,
    found?: Promise<UserRecord | null>,
  ): Promise<CredentialCheck> {
    const password = normalizeLoginPassword(rawPassword);
    const params = this.#settings.passwords;
    const user = await (found ?? this.findLoginUser(rawEmail));
    const storedHash = user?.password_hash ?? unmatchableHash(params);
    // An over-long password is still run through PBKDF2 (as a fixed string) so
    // it cannot be told apart by timing; it can never match.
    const check = await verifyPassword(password ?? "\u0000oversized", storedHash, params);
    if (!user) return { ok: false, reason: "unknown_email", userId: null };
    if (!check.ok || password === null) return { ok: false, reason: "wrong_password", userId: user.id };
    if (user.disabled_at !== null) return { ok: false, reason: "disabled_account", userId: user.id };
    if (check.needsRehash) {
      // Upgrade iterations/pepper now that we hold the plaintext; never fails the login.
      try {
        await this.#users.replacePasswordHash(user.id, user.password_hash, await hashPassword(password, params), now);
      } catch (error) {
        logEvent("error", "password_rehash_failed", { user_id: user.id, error: String(error) });
      }
    }
    return { ok: true, user };
  }

  /** The account a login names, if any: a read with no effect, safe to start early. */
  async findLoginUser(rawEmail: string): Promise<UserRecord | null> {
    const email = normalizeEmail(rawEmail);
    return isValidEmail(email) ? this.#users.findByEmail(email) : null;
  }

  async #sendVerification(userId: string, email: string, pendingPasswordHash: string | null, now: number) {
    const token = randomToken(32);
    const ttl = this.#settings.verificationTokenTtlSeconds;
    const tokenHash = await sha256Hex(token);
    await this.#verificationTokens.insert({ tokenHash, userId, pendingPasswordHash, expiresAt: now + ttl * 1000, now });
    await this.#sendMail(verificationMail(email, this.#settings.publicUrl, token, ttl));
  }

  async #sendMail(message: MailMessage): Promise<void> {
    // A mail failure must not change the signup answer: an error only for new (or
    // only for existing) addresses would enumerate accounts. It is logged instead.
    try {
      await this.#mailer.send(message);
    } catch (error) {
      logEvent("error", "mail_failed", { subject: message.subject, error: String(error) });
    }
  }
}
