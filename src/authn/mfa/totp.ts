/**
 * @module authn/mfa/totp
 * `TotpAuthenticators` (RFC 6238): SHA-1, 6 digits, 30 s, what every
 * authenticator app accepts. The 160-bit secret is sealed at rest (AES-GCM
 * under MFA_ENCRYPTION_KEY, bound to its user). A code is accepted for the
 * step before, at, or after now, compared in constant time, and only if its
 * step is later than every step accepted before, claimed by one guarded D1
 * write: the same code twice, an older code after a newer one, and concurrent
 * submissions of one code give exactly one success.
 */
import { ConfigError } from "../../app/errors/codes";
import { base32 } from "../../lib/crypto/base32";
import { hotp, totpStep } from "../../lib/crypto/otp";
import { randomBytes } from "../../lib/crypto/random";
import { type Keyring, open, seal } from "../../lib/crypto/sealing";
import { timingSafeEqualStrings } from "../../lib/crypto/timing-safe";
import type { TotpRow, TotpStore } from "./totp-store";

export const TOTP_DIGITS = 6;
/** An enrolment not confirmed within this is forgotten. */
export const PENDING_ENROLMENT_MS = 10 * 60_000;
const SECRET_BYTES = 20;
const CODE_SHAPE = /^\d{6}$/;

export interface TotpEnrolment {
  secret: string;
  otpauthUri: string;
}

export interface TotpAuthenticatorsOptions {
  store: TotpStore;
  keyring: Keyring | null;
  /** The issuer shown in authenticator apps. */
  issuer: string;
}

export class TotpAuthenticators {
  readonly #o: TotpAuthenticatorsOptions;

  constructor(options: TotpAuthenticatorsOptions) {
    this.#o = options;
  }

  /** Whether the user has a confirmed authenticator. */
  async isEnabled(userId: string): Promise<boolean> {
    return (await this.#o.store.find(userId))?.confirmed_at != null;
  }

  /** A new pending secret; null when the user already has a confirmed authenticator. */
  async enrol(userId: string, accountLabel: string, now: number): Promise<TotpEnrolment | null> {
    const secret = randomBytes(SECRET_BYTES);
    const sealed = await seal(this.#keyring(), secret, context(userId));
    if (!(await this.#o.store.putPending(userId, sealed, now + PENDING_ENROLMENT_MS, now))) return null;
    const encoded = base32(secret);
    return { secret: encoded, otpauthUri: otpauthUri(this.#o.issuer, accountLabel, encoded) };
  }

  /** Turns a pending enrolment on with its first valid code. */
  confirm(userId: string, code: string, now: number): Promise<boolean> {
    return this.#check(userId, code, now, true);
  }

  /** Checks a code of a confirmed authenticator and spends its step. */
  verify(userId: string, code: string, now: number): Promise<boolean> {
    return this.#check(userId, code, now, false);
  }

  async #check(userId: string, code: string, now: number, confirming: boolean): Promise<boolean> {
    const row = await this.#o.store.find(userId);
    if (!row || (row.confirmed_at !== null) === confirming) return false;
    if (confirming && (row.pending_expires_at ?? 0) <= now) return false;
    const secret = await this.#secretOf(row);
    if (!secret) return false;
    // Every candidate is computed and compared, so timing does not say which step matched.
    const step = totpStep(now);
    let matched: number | null = null;
    for (const candidate of [step - 1, step, step + 1]) {
      const expected = await hotp(secret, candidate, TOTP_DIGITS);
      const ok = CODE_SHAPE.test(code) && timingSafeEqualStrings(expected, code);
      if (ok && matched === null && (row.last_step === null || candidate > row.last_step)) matched = candidate;
    }
    if (matched === null) return false;
    return this.#o.store.claimStep(userId, matched, now, confirming);
  }

  /** The opened secret; null when no key in the ring opens it (one dropped too early): then no code matches. */
  async #secretOf(row: TotpRow): Promise<Uint8Array<ArrayBuffer> | null> {
    return open(this.#keyring(), { keyId: row.key_id, ciphertext: row.secret_ciphertext }, context(row.user_id));
  }

  #keyring(): Keyring {
    if (!this.#o.keyring) throw new ConfigError(["MFA_ENCRYPTION_KEY is not set"]);
    return this.#o.keyring;
  }
}

/** The sealed secret is bound to its user: a ciphertext copied to another row opens nowhere. */
function context(userId: string): string {
  return `edgelock/totp:${userId}`;
}

/** Key URI Format (Google Authenticator): otpauth://totp/Issuer:account?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30 */
function otpauthUri(issuer: string, account: string, secret: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const params = new URLSearchParams({ secret, issuer, algorithm: "SHA1", digits: "6", period: "30" });
  return `otpauth://totp/${label}?${params.toString()}`;
}
