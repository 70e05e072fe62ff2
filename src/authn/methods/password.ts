/**
 * @module authn/methods/password
 * Email + password as a login method (amr "pwd"). Unknown email, wrong
 * password, an account without a password and a disabled account cost the
 * same PBKDF2 work and differ only in the audit `reason`. A hash made with
 * older parameters (iterations, pepper) is upgraded while the plaintext is at hand.
 */
import type { RequestContext } from "../../app/request-context";
import { normalizeLoginPassword } from "../../identity/password-policy";
import { hashPassword, type PasswordHashParams, unmatchableHash, verifyPassword } from "../../identity/passwords";
import type { UserRecord, UserStore } from "../../identity/user-store";
import type { UserService } from "../../identity/users";
import { logEvent } from "../../lib/log";
import { type Settled, settled, unwrap } from "../../lib/settled";
import type { LoginMethod, MethodOutcome } from "../types";

export interface PasswordCredentials {
  email: string;
  password: string;
}

export interface PasswordMethodOptions {
  users: UserService;
  store: UserStore;
  passwords: PasswordHashParams;
}

export class PasswordMethod implements LoginMethod<PasswordCredentials, UserRecord | null> {
  readonly #o: PasswordMethodOptions;

  constructor(options: PasswordMethodOptions) {
    this.#o = options;
  }

  prepare(input: PasswordCredentials): Promise<Settled<UserRecord | null>> {
    return settled(this.#o.users.findByEmail(input.email));
  }

  async authenticate(
    input: PasswordCredentials,
    prepared: Promise<Settled<UserRecord | null>>,
    ctx: RequestContext,
  ): Promise<MethodOutcome> {
    const password = normalizeLoginPassword(input.password);
    const user = unwrap(await prepared);
    // No account, or an account without a password: the same PBKDF2 run against a hash nothing matches.
    const storedHash = user?.password_hash ?? unmatchableHash(this.#o.passwords);
    // An over-long password is still run through PBKDF2 (as a fixed string) so
    // it cannot be told apart by timing; it can never match.
    const check = await verifyPassword(password ?? "\u0000oversized", storedHash, this.#o.passwords);
    if (!user) return { ok: false, reason: "unknown_email", userId: null };
    if (user.password_hash === null) return { ok: false, reason: "no_password", userId: user.id };
    if (!check.ok || password === null) return { ok: false, reason: "wrong_password", userId: user.id };
    if (user.disabled_at !== null) return { ok: false, reason: "disabled_account", userId: user.id };
    if (check.needsRehash) await this.#rehash(user, user.password_hash, password, ctx.now);
    return { ok: true, result: { user, amr: ["pwd"], authTime: ctx.now } };
  }

  /** Upgrades iterations/pepper now that we hold the plaintext; never fails the login. */
  async #rehash(user: UserRecord, oldHash: string, password: string, now: number): Promise<void> {
    try {
      await this.#o.store.replacePasswordHash(user.id, oldHash, await hashPassword(password, this.#o.passwords), now);
    } catch (error) {
      logEvent("error", "password_rehash_failed", { user_id: user.id, error: String(error) });
    }
  }
}
