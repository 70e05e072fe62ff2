/**
 * @module one-time-secrets/one-time-secrets
 * Issuing and spending one-time secrets: 256 random bits handed out once,
 * kept only as SHA-256, valid for one purpose until they expire, spent once.
 */
import { sha256Hex } from "../lib/crypto/digest";
import { randomToken } from "../lib/crypto/random";
import type { OneTimeSecretStore, SpendEffect, SpentSecret, SubjectSecret } from "./one-time-secret-store";

/** What a secret may be spent for; a secret issued for one purpose is unknown to every other. */
export type SecretPurpose =
  | "email_verification"
  | "password_reset"
  | "authorization_code"
  | "oauth_interaction"
  | "oauth_registration"
  | "mfa_login"
  | "magic_link"
  | "passkey_registration"
  | "passkey_login";

export interface IssueSecret {
  purpose: SecretPurpose;
  userId: string | null;
  payload?: Record<string, unknown> | null;
  ttlMs: number;
  now: number;
  /**
   * A lookup key for finding the secret without it (not a secret: e.g. a hash
   * of an address). Issuing replaces every earlier secret of the subject and purpose.
   */
  subject?: string;
}

export class OneTimeSecrets {
  readonly #store: OneTimeSecretStore;

  constructor(options: { store: OneTimeSecretStore }) {
    this.#store = options.store;
  }

  /** Stores a new secret's hash and returns the secret, which exists nowhere else. */
  async issue(secret: IssueSecret): Promise<string> {
    const token = randomToken(32);
    await this.#store.insert({
      tokenHash: await sha256Hex(token),
      purpose: secret.purpose,
      userId: secret.userId,
      payload: secret.payload ?? null,
      expiresAt: secret.now + secret.ttlMs,
      now: secret.now,
      subject: secret.subject ?? null,
    });
    return token;
  }

  /**
   * The live secret of `subject` for `purpose`, without spending it; null if
   * there is none. Its `tokenHash` is what spendByHash and countFailureByHash take.
   */
  findBySubject(subject: string, purpose: SecretPurpose, now: number): Promise<SubjectSecret | null> {
    return this.#store.findBySubject(subject, purpose, now);
  }

  /** Spends a secret found by its subject (its hash, not the secret); null when it is no longer live. */
  spendByHash(tokenHash: string, purpose: SecretPurpose, now: number): Promise<SpentSecret | null> {
    return this.#store.spend(tokenHash, purpose, now);
  }

  /** countFailure for a secret found by its subject. */
  countFailureByHash(tokenHash: string, purpose: SecretPurpose, maxAttempts: number, now: number) {
    return this.#store.countFailure(tokenHash, purpose, maxAttempts, now);
  }

  /** What a live `token` for `purpose` holds, without spending it; null when it could not be spent. */
  async peek(token: string, purpose: SecretPurpose, now: number): Promise<SpentSecret | null> {
    return this.#store.peek(await sha256Hex(token), purpose, now);
  }

  /** Spends `token` for `purpose`; null when it is unknown, used, expired or for another purpose. */
  async spend(token: string, purpose: SecretPurpose, now: number): Promise<SpentSecret | null> {
    return this.#store.spend(await sha256Hex(token), purpose, now);
  }

  /** Spends `token` together with `effects`, in one transaction: both happen, or neither. */
  async spendWith(token: string, purpose: SecretPurpose, now: number, effects: SpendEffect[]) {
    return this.#store.spendWith(await sha256Hex(token), purpose, now, effects);
  }

  /** Counts a wrong try against a live secret; the last allowed one spends it. Tries left, or null. */
  async countFailure(token: string, purpose: SecretPurpose, maxAttempts: number, now: number): Promise<number | null> {
    return this.#store.countFailure(await sha256Hex(token), purpose, maxAttempts, now);
  }

  /** What a `token` already spent for `purpose` held: a replay's evidence; null when it was never spent. */
  async findSpent(token: string, purpose: SecretPurpose): Promise<SpentSecret | null> {
    return this.#store.findSpent(await sha256Hex(token), purpose);
  }

  /** Every other secret of the user for `purpose` dies (an address proven, a password reset). */
  revokeAll(userId: string, purpose: SecretPurpose): Promise<void> {
    return this.#store.deleteFor(userId, purpose);
  }
}
