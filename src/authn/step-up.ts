/**
 * @module authn/step-up
 * Sensitive actions (minting an API key) need a fresh authentication: the
 * caller's session must have authenticated within the last 5 minutes, or the
 * request proves the password again. A stolen access token or cookie alone is
 * then not enough to mint a credential that outlives it. A stale session is
 * answered as RFC 9470 asks: 401 insufficient_user_authentication with
 * `max_age`, so the client knows to authenticate again.
 */
import { AuthError } from "../app/errors/codes";
import type { RequestContext } from "../app/request-context";
import type { UserService } from "../identity/users";
import type { PasswordProof } from "./password-proof";

/** How recent an authentication must be for a sensitive action. */
export const STEP_UP_MAX_AGE_SECONDS = 300;

export interface StepUpOptions {
  users: UserService;
  proof: PasswordProof;
}

export class StepUp {
  readonly #o: StepUpOptions;

  constructor(options: StepUpOptions) {
    this.#o = options;
  }

  /**
   * Passes when `authTime` (epoch ms; undefined when unknown) is recent, or when
   * `password` is the user's (checked against the login budget); throws otherwise.
   */
  async require(userId: string, authTime: number | undefined, password: string | undefined, ctx: RequestContext) {
    if (authTime !== undefined && ctx.now - authTime <= STEP_UP_MAX_AGE_SECONDS * 1000) return;
    if (password === undefined) {
      throw new AuthError("insufficient_user_authentication", "log in again (or send your password) to do this", {
        challenge: { max_age: String(STEP_UP_MAX_AGE_SECONDS) },
      });
    }
    const user = await this.#o.users.requireActive(userId);
    // With two-step login on, the caller checks a code next (SecondFactors.stepUp), which settles the budget.
    const secondFactorFollows = user.mfa_enabled === 1;
    if (!(await this.#o.proof.check(user.email, password, user.password_hash, ctx, { secondFactorFollows }))) {
      throw new AuthError("wrong_password", "the password is incorrect");
    }
  }
}
