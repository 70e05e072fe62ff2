/**
 * @module storage/rate-limiter
 * The Worker's side of the RateLimiter Durable Object: one object per key,
 * called over RPC. If the object cannot be reached, every call throws
 * 503 temporarily_unavailable: credential endpoints fail closed, because an
 * outage of the limiter must not become an unlimited guessing window.
 */

import { AuthError } from "../app/errors/codes";
import type {
  AttemptDecision,
  AttemptOutcome,
  AttemptPolicy,
  RateDecision,
  RateLimiter,
  RatePolicy,
} from "./rate-limiter-object";

/** A reserved login attempt and the one way to settle it. */
export interface ReservedAttempt {
  decision: AttemptDecision;
  /** Settles the reservation (a no-op when the attempt was refused). */
  settle(outcome: AttemptOutcome): Promise<void>;
}

export class RateLimiterClient {
  readonly #namespace: DurableObjectNamespace<RateLimiter>;

  constructor(namespace: DurableObjectNamespace<RateLimiter>) {
    this.#namespace = namespace;
  }

  consume(key: string, policy: RatePolicy, now: number): Promise<RateDecision> {
    return this.#call(key, (stub) => stub.consume(policy, now));
  }

  reserveAttempt(key: string, policy: AttemptPolicy, now: number): Promise<AttemptDecision> {
    return this.#call(key, (stub) => stub.reserveAttempt(policy, now));
  }

  async reserve(key: string, policy: AttemptPolicy, now: number): Promise<ReservedAttempt> {
    const decision = await this.reserveAttempt(key, policy, now);
    const id = decision.reservationId;
    return {
      decision,
      settle: (outcome) => (id ? this.settleAttempt(key, policy, id, outcome, now) : Promise.resolve()),
    };
  }

  settleAttempt(key: string, policy: AttemptPolicy, reservationId: string, outcome: AttemptOutcome, now: number) {
    return this.#call(key, (stub) => stub.settleAttempt(policy, reservationId, outcome, now));
  }

  reset(key: string): Promise<void> {
    return this.#call(key, (stub) => stub.reset());
  }

  async #call<T>(key: string, call: (stub: DurableObjectStub<RateLimiter>) => Promise<T>): Promise<T> {
    try {
      return await call(this.#namespace.get(this.#namespace.idFromName(key)));
    } catch (error) {
      throw new AuthError(503, "temporarily_unavailable", "the service is temporarily unavailable; try again shortly", {
        cause: error,
        headers: { "Retry-After": "5" },
      });
    }
  }
}
