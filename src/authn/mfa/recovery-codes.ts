/**
 * @module authn/mfa/recovery-codes
 * `RecoveryCodes`: ten single-use codes for when the authenticator is lost.
 * Each is 120 random bits, shown once as six groups of four base32 characters
 * (`ABCD-EFGH-…`), kept only as SHA-256 of its normalized form (one D1 row
 * each), and spent by one guarded write. Input ignores case, spaces and dashes.
 */
import { base32 } from "../../lib/crypto/base32";
import { sha256Hex } from "../../lib/crypto/digest";
import { randomBytes } from "../../lib/crypto/random";
import type { RecoveryCodeStore } from "./recovery-code-store";

export const RECOVERY_CODE_COUNT = 10;
const CODE_BYTES = 15; // 120 bits: 24 base32 characters
const NORMALIZED = /^[A-Z2-7]{24}$/;

export class RecoveryCodes {
  readonly #store: RecoveryCodeStore;

  constructor(options: { store: RecoveryCodeStore }) {
    this.#store = options.store;
  }

  /** A new set, replacing the old one entirely; the codes exist only in this answer. */
  async regenerate(userId: string, now: number): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => base32(randomBytes(CODE_BYTES)));
    await this.#store.replace(userId, await Promise.all(codes.map((code) => sha256Hex(code))), now);
    return codes.map((code) => code.match(/.{4}/g)?.join("-") ?? code);
  }

  /** Spends one of the user's codes; false when it is not an unused one of theirs. */
  async spend(userId: string, presented: string, now: number): Promise<boolean> {
    const normalized = presented.replace(/[\s-]/g, "").toUpperCase();
    // Hashed whatever its shape, so a malformed code costs the same as a wrong one.
    const hash = await sha256Hex(normalized);
    if (!NORMALIZED.test(normalized)) return false;
    return this.#store.spend(userId, hash, now);
  }

  remaining(userId: string): Promise<number> {
    return this.#store.remaining(userId);
  }
}
