/**
 * @module authn/mfa/mfa-login
 * `MfaLogin`: the second step of a login that needed one. It checks the
 * mfa_token (live, this device's), then the code through the login flow's
 * second step (the account's failure budget, the audit log); a wrong code
 * also counts against the mfa_token (5 at most). The token is spent as the
 * session starts, so one first step yields at most one session.
 */
import { AuthError, invalidGrant } from "../../app/errors/codes";
import type { RequestContext } from "../../app/request-context";
import type { UserService } from "../../identity/users";
import { type Settled, unwrap } from "../../lib/settled";
import type { LoginFlow } from "../login-flow";
import type { AuthenticationResult } from "../types";
import type { PendingLogin, PendingLogins } from "./pending-logins";
import type { SecondFactorProof, SecondFactors } from "./second-factors";

export interface MfaLoginOptions {
  pending: PendingLogins;
  factors: SecondFactors;
  login: LoginFlow;
  users: UserService;
}

export class MfaLogin {
  readonly #o: MfaLoginOptions;

  constructor(options: MfaLoginOptions) {
    this.#o = options;
  }

  async complete<T>(
    mfaToken: string,
    proof: SecondFactorProof,
    ctx: RequestContext,
    gate: Promise<Settled<unknown>> | undefined,
    start: (auth: AuthenticationResult, pending: PendingLogin) => Promise<T>,
  ): Promise<T> {
    if (gate) unwrap(await gate);
    const pending = await this.#o.pending.find(mfaToken, ctx.meta.userAgent, ctx.now);
    const user = await this.#o.users.findActive(pending.userId);
    if (user?.mfa_enabled !== 1) throw invalidGrant("the mfa_token is invalid, expired or used; log in again");
    const firstFactor = { user, amr: pending.amr, authTime: ctx.now };
    try {
      return await this.#o.login.secondStep(
        firstFactor,
        () => this.#o.factors.check(user, proof, ctx),
        ctx,
        async (auth) => {
          if (!(await this.#o.pending.complete(mfaToken, ctx.now))) {
            throw invalidGrant("the mfa_token is invalid, expired or used; log in again");
          }
          return start(auth, pending);
        },
      );
    } catch (error) {
      if (error instanceof AuthError && error.code === "invalid_credentials") {
        await this.#o.pending.countFailure(mfaToken, ctx.now);
      }
      throw error;
    }
  }
}
