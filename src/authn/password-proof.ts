/**
 * @module authn/password-proof
 * Proving a password outside login (confirming a signup's link, changing the
 * password, stepping up for a sensitive action): the same failure budget and
 * lock as login, so no such path is a faster way to guess. The comparison is
 * the login's: the same PBKDF2 work whether the hash is there or not.
 */
import { tooManyRequests } from "../app/errors/codes";
import type { RequestContext } from "../app/request-context";
import { normalizeLoginPassword } from "../identity/password-policy";
import { type PasswordHashParams, unmatchableHash, verifyPassword } from "../identity/passwords";
import type { AttemptBudget } from "./attempt-budget";

export interface PasswordProofOptions {
  budget: AttemptBudget;
  passwords: PasswordHashParams;
}

export class PasswordProof {
  readonly #o: PasswordProofOptions;

  constructor(options: PasswordProofOptions) {
    this.#o = options;
  }

  /**
   * Whether `password` matches `expectedHash` (null: nothing matches), counted
   * against `email`'s budget: a mismatch is a failure. Throws 429 while locked.
   * `secondFactorFollows`: a match only gives the reservation back, for the
   * second factor's check to settle.
   */
  async check(
    email: string,
    password: string,
    expectedHash: string | null,
    ctx: RequestContext,
    options: { secondFactorFollows?: boolean } = {},
  ): Promise<boolean> {
    const attempt = await this.#o.budget.reserve(email, null, ctx.now);
    if (!attempt.account.allowed) {
      await attempt.abandon();
      throw tooManyRequests(attempt.account.retryAfterMs);
    }
    const normalized = normalizeLoginPassword(password);
    let matches: boolean;
    try {
      const stored = expectedHash ?? unmatchableHash(this.#o.passwords);
      const check = await verifyPassword(normalized ?? "\u0000oversized", stored, this.#o.passwords);
      matches = check.ok && normalized !== null && expectedHash !== null;
    } catch (error) {
      await attempt.abandon();
      throw error;
    }
    // A right password that a code must follow proves nothing yet: its success
    // would reset the budget, and the password holder could then guess codes
    // for ever, resetting it with every guess (as LoginFlow's first step).
    if (matches && options.secondFactorFollows) await attempt.abandon();
    else await attempt.settle(matches ? "success" : "failure");
    return matches;
  }
}
