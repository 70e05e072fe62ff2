/**
 * @module limits/policies
 * The RateLimiter's policies and decisions, shared by the Durable Object and
 * its callers: GCRA rate limits, and failed-attempt budgets with a lock.
 */

export interface RatePolicy {
  limit: number;
  windowMs: number;
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the full quota is available again. */
  resetMs: number;
  /** Milliseconds to wait before the next request can be allowed (0 when allowed). */
  retryAfterMs: number;
  /** Refusals in a row, this one included (0 when allowed): callers audit the first and log the rest. */
  refusedInARow: number;
}

export interface AttemptPolicy {
  /** Failures allowed before the lock starts; they are forgotten after `windowMs` without a failure. */
  maxFailures: number;
  windowMs: number;
  /** First lock duration; each further failure while over budget doubles it. */
  baseLockMs: number;
  maxLockMs: number;
  /**
   * Whether attempts still in flight count as failures (default true, so N
   * concurrent password guesses cannot slip under a budget of fewer than N).
   * False for credentials no burst could guess (256-bit client secrets): then
   * concurrent honest requests never lock their client out.
   */
  countInFlight?: boolean;
}

export interface AttemptDecision {
  allowed: boolean;
  /** Pass back to settleAttempt; null when not allowed. */
  reservationId: string | null;
  /** Failures counted in the current window (before this attempt). */
  failures: number;
  /** Other attempts reserved and not yet settled: each may yet be a failure. */
  pending: number;
  retryAfterMs: number;
  locked: boolean;
  /** Refusals in a row, this one included (0 when allowed). */
  refusedInARow: number;
}

export type AttemptOutcome = "success" | "failure" | "abandon";
