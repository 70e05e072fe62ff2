/**
 * @module authn/login-flow
 * A login, as a flow of checks in the order they must run:
 *  0. the per-IP limit (the caller's `gate`, started before the body is read):
 *     nothing happens before it has passed;
 *  1. reserve an attempt against the account's failure budget, while the
 *     method's reads run beside it (reads with no effect);
 *  2. demand a CAPTCHA once the account or the IP has failed often enough;
 *  3. check the credential with the login method (the same work for every kind of failure);
 *  4. refuse an unverified email (only to someone who proved the credential);
 *  5. ask the second-factor policy whether the login needs another factor;
 *  6. start the session, then settle the budget and record the login after the response.
 * A lock refuses even the correct credential: the point is to stop guessing.
 */
import { AuthError, invalidCredentials, tooManyRequests } from "../app/errors/codes";
import type { RequestContext } from "../app/request-context";
import { type Settled, unwrap } from "../lib/settled";
import type { AttemptBudget, BudgetAttempt } from "./attempt-budget";
import type { CaptchaVerifier } from "./captcha";
import type { AuthenticationResult, LoginMethod, SecondFactorPolicy, SecondFactorRequired } from "./types";

export interface LoginRequest<Input> {
  /** The account the attempt is counted against (normalized inside). */
  email: string;
  input: Input;
  captchaToken?: string;
  /**
   * The credential cannot be guessed (a magic link's 256-bit token): no CAPTCHA
   * is asked for, as it would protect nothing, and a guesser's failures at the
   * account's password must not make the owner's link unusable.
   */
  skipCaptcha?: boolean;
  /** Must allow the attempt before anything else happens (the per-IP rate limit, started by the caller). */
  gate?: Promise<Settled<unknown>>;
}

export interface LoginFlowOptions {
  budget: AttemptBudget;
  captcha: { verifier: CaptchaVerifier | null; afterFailures: number };
  /** Told about every completed login, after the response (audit row, known devices, notice). */
  onSuccess: (result: AuthenticationResult, ctx: RequestContext) => Promise<void>;
  /** Whether a login needs a second factor; none configured means never. */
  secondFactor?: SecondFactorPolicy;
}

/** Failures settled as such (they count, or prove the credential); anything else gives the reservation back. */
const SETTLED_CODES = new Set(["invalid_credentials", "email_not_verified"]);

export class LoginFlow {
  readonly #o: LoginFlowOptions;

  constructor(options: LoginFlowOptions) {
    this.#o = options;
  }

  /**
   * Runs the checks, then hands the result to `start` (token response or cookie
   * session: the caller's choice) — or answers that a second factor is required.
   */
  async login<Input, Prepared, T>(
    method: LoginMethod<Input, Prepared>,
    request: LoginRequest<Input>,
    ctx: RequestContext,
    start: (result: AuthenticationResult) => Promise<T>,
  ): Promise<T | SecondFactorRequired> {
    if (request.gate) unwrap(await request.gate);
    const prepared = method.prepare(request.input);
    const captcha = this.#o.captcha.verifier ? { address: ctx.meta.ip } : null;
    const attempt = await this.#o.budget.reserve(request.email, captcha, ctx.now);
    if (!attempt.account.allowed) {
      await attempt.abandon();
      const { locked, refusedInARow } = attempt.account;
      ctx.audit.recordRefusal("login_locked", refusedInARow, { account_key: attempt.accountKey, locked }, ctx.now);
      throw tooManyRequests(attempt.account.retryAfterMs);
    }
    try {
      if (!request.skipCaptcha) await this.#checkCaptcha(attempt, request.captchaToken, ctx);
      const result = await this.#firstFactor(method, request.input, prepared, attempt, ctx);
      const second = this.#o.secondFactor ? await this.#o.secondFactor(result) : null;
      if (second) {
        // The first factor alone proves nothing yet: its success must not reset
        // the budget, or a password holder could reset it between second-factor guesses.
        await attempt.abandon();
        return second;
      }
      return await this.#complete(result, attempt, ctx, start);
    } catch (error) {
      if (!(error instanceof AuthError && SETTLED_CODES.has(error.code))) await attempt.abandon();
      throw error;
    }
  }

  /**
   * The second step of a login that needed a second factor: `verify` checks it
   * against the account's failure budget, and on success the login completes
   * as the first step would have (session, budget, record), its `amr` the
   * first factor's plus what `verify` proved plus `mfa`, its time now.
   */
  async secondStep<T>(
    firstFactor: AuthenticationResult,
    verify: () => Promise<{ ok: true; amr: string[] } | { ok: false; reason: string }>,
    ctx: RequestContext,
    start: (result: AuthenticationResult) => Promise<T>,
  ): Promise<T> {
    const { user } = firstFactor;
    const attempt = await this.#o.budget.reserve(user.email, null, ctx.now);
    if (!attempt.account.allowed) {
      await attempt.abandon();
      const { locked, refusedInARow } = attempt.account;
      ctx.audit.recordRefusal("login_locked", refusedInARow, { account_key: attempt.accountKey, locked }, ctx.now);
      throw tooManyRequests(attempt.account.retryAfterMs);
    }
    try {
      const outcome = await verify();
      if (!outcome.ok) {
        await attempt.settle("failure");
        ctx.audit.record("mfa_failed", user.id, { reason: outcome.reason }, ctx.now);
        throw new AuthError("invalid_credentials", "The code is incorrect.");
      }
      const amr = [...new Set([...firstFactor.amr, ...outcome.amr, "mfa"])];
      return await this.#complete({ user, amr, authTime: ctx.now }, attempt, ctx, start);
    } catch (error) {
      if (!(error instanceof AuthError && error.code === "invalid_credentials")) await attempt.abandon();
      throw error;
    }
  }

  async #checkCaptcha(attempt: BudgetAttempt, token: string | undefined, ctx: RequestContext): Promise<void> {
    const { verifier, afterFailures } = this.#o.captcha;
    if (!verifier || attempt.seen < afterFailures) return;
    const solved = token ? await verifier.verify(token, ctx.meta.ip) : false;
    if (solved) return;
    ctx.audit.record(
      "captcha_failed",
      null,
      { account_key: attempt.accountKey, token_present: Boolean(token) },
      ctx.now,
    );
    throw new AuthError(
      "captcha_required",
      "too many failed attempts: solve the CAPTCHA and send its token as captcha_token",
    );
  }

  async #firstFactor<Input, Prepared>(
    method: LoginMethod<Input, Prepared>,
    input: Input,
    prepared: Promise<Settled<Prepared>>,
    attempt: BudgetAttempt,
    ctx: RequestContext,
  ): Promise<AuthenticationResult> {
    const outcome = await method.authenticate(input, prepared, ctx);
    if (!outcome.ok) {
      await attempt.settle("failure");
      ctx.audit.record("login_failed", outcome.userId, { reason: outcome.reason }, ctx.now);
      throw invalidCredentials();
    }
    const { user } = outcome.result;
    if (user.email_verified_at === null) {
      await attempt.settle("success");
      ctx.audit.record("login_failed", user.id, { reason: "email_not_verified" }, ctx.now);
      throw new AuthError("email_not_verified", "verify your email address before logging in");
    }
    return outcome.result;
  }

  async #complete<T>(
    result: AuthenticationResult,
    attempt: BudgetAttempt,
    ctx: RequestContext,
    start: (result: AuthenticationResult) => Promise<T>,
  ): Promise<T> {
    // After the response: a success only relaxes the budget (frees the
    // reservation, forgets failures), and relaxing it a moment late is safe.
    // Failures, by contrast, are settled before the answer.
    ctx.defer(attempt.settle("success"), "login_settle");
    const session = await start(result);
    // After the response: the audit row, the device check and the owner's notice
    // must not slow down their login.
    ctx.defer(this.#o.onSuccess(result, ctx), "login_record");
    return session;
  }
}
