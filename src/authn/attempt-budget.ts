/**
 * @module authn/attempt-budget
 * The failed-attempt budget that every check of a user's secret runs against
 * (login, and proving the current password while signed in): one reservation
 * per attempt in the RateLimiter, per normalized email whether or not the
 * account exists (so a lock reveals nothing), and optionally one per IP that
 * never locks and only counts towards the CAPTCHA threshold. Reservations
 * count as failures until settled, so N parallel guesses cannot all slip in
 * under a budget smaller than N.
 */

import { logEvent } from "../lib/log";
import { loginAccountKey, loginIpFailureKey } from "../limits/keys";
import type { AttemptDecision, AttemptOutcome, AttemptPolicy } from "../limits/policies";
import type { RateLimiterStore, ReservedAttempt } from "../limits/rate-limiter-store";

export interface AttemptBudgetOptions {
  store: RateLimiterStore;
  lockout: AttemptPolicy;
}

export interface BudgetAttempt {
  /** The account's decision; refused while locked or while the budget is taken by pending attempts. */
  account: AttemptDecision;
  /** The IP's decision, when the IP was counted too. */
  ip: AttemptDecision | null;
  /** The key the account is counted under (for the audit log). */
  accountKey: string;
  /**
   * Failures plus attempts still pending, the higher of account and IP: a burst
   * of parallel guesses meets the CAPTCHA as soon as the burst reaches the threshold.
   */
  seen: number;
  /** Settles both reservations. A success releases the IP's without wiping its failures. */
  settle(outcome: AttemptOutcome): Promise<void>;
  /** Gives the reservations back (neither a failure nor a success); a failure to do so is logged. */
  abandon(): Promise<void>;
}

export class AttemptBudget {
  readonly #store: RateLimiterStore;
  readonly #lockout: AttemptPolicy;

  constructor(options: AttemptBudgetOptions) {
    this.#store = options.store;
    this.#lockout = options.lockout;
  }

  /** Reserves one attempt for `email` (and for `ip` when given); throws Unavailable if the limiter is down. */
  async reserve(email: string, ip: { address: string | null } | null, now: number): Promise<BudgetAttempt> {
    const accountKey = loginAccountKey(email);
    // Failed logins per IP only matter for the CAPTCHA; they never lock.
    const ipPolicy = { ...this.#lockout, maxFailures: Number.MAX_SAFE_INTEGER };
    const [account, perIp] = await Promise.allSettled([
      this.#store.reserve(accountKey, this.#lockout, now),
      ip ? this.#store.reserve(loginIpFailureKey(ip.address), ipPolicy, now) : Promise.resolve(null),
    ]);
    const held = [account, perIp].flatMap((r) => (r.status === "fulfilled" && r.value ? [r.value] : []));
    const settle = (outcome: AttemptOutcome) => settleAll(held, account, outcome);
    const abandon = () =>
      settle("abandon").catch((error: unknown) => {
        // A reservation not given back expires by itself within 30 s.
        logEvent("warn", "attempt_abandon_failed", { error: String(error) });
      });
    if (account.status === "rejected" || perIp.status === "rejected") {
      await abandon();
      throw account.status === "rejected" ? account.reason : (perIp as PromiseRejectedResult).reason;
    }
    const seen = (decision: AttemptDecision | null) => (decision ? decision.failures + decision.pending : 0);
    const ipDecision = perIp.value?.decision ?? null;
    return {
      account: account.value.decision,
      ip: ipDecision,
      accountKey,
      seen: Math.max(seen(account.value.decision), seen(ipDecision)),
      settle,
      abandon,
    };
  }

  /** Forgets the account's failures and lifts its lock (its owner proved control of the address). */
  forgive(email: string): Promise<void> {
    return this.#store.reset(loginAccountKey(email));
  }
}

async function settleAll(
  held: ReservedAttempt[],
  account: PromiseSettledResult<ReservedAttempt>,
  outcome: AttemptOutcome,
): Promise<void> {
  const accountAttempt = account.status === "fulfilled" ? account.value : null;
  await Promise.all(
    held.map((attempt) =>
      // Logging in to one's own account must not buy more CAPTCHA-free guesses at others.
      attempt.settle(attempt === accountAttempt || outcome !== "success" ? outcome : "abandon"),
    ),
  );
}
