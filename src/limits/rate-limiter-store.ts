/**
 * @module limits/rate-limiter-store
 * The Worker's side of the RateLimiter Durable Object: one object per key,
 * called over RPC. If the object cannot be reached, every call throws
 * Unavailable (503): credential endpoints fail closed, because an outage of the
 * limiter must not become an unlimited guessing window.
 */
import { Unavailable } from "../app/errors/codes";
import type { AttemptDecision, AttemptOutcome, AttemptPolicy, RateDecision, RatePolicy } from "./policies";
import type { RateLimiter } from "./rate-limiter-object";

/** A reserved login attempt and the one way to settle it. */
export interface ReservedAttempt {
  decision: AttemptDecision;
  /** Settles the reservation (a no-op when the attempt was refused). */
  settle(outcome: AttemptOutcome): Promise<void>;
}

export class RateLimiterStore {
  readonly #namespace: DurableObjectNamespace<RateLimiter>;

  constructor(namespace: DurableObjectNamespace<RateLimiter>) {
    this.#namespace = namespace;
  }

  consume(key: string, policy: RatePolicy, now: number): Promise<RateDecision> {
    return this.#call(key, (stub) => stub.consume(policy, now));
  }

  async reserve(key: string, policy: AttemptPolicy, now: number): Promise<ReservedAttempt> {
    const decision = await this.#call(key, (stub) => stub.reserveAttempt(policy, now));
    const id = decision.reservationId;
    return {
      decision,
      // Settled at the time it is settled, not when the attempt began: a lock a
      // failure starts runs from the moment it is recorded, however long the
      // request took (a queue under a burst, a slow hash), so it cannot have run
      // out before anyone saw it.
      settle: (outcome) =>
        id
          ? this.#call(key, (stub) => stub.settleAttempt(policy, id, outcome, Math.max(now, Date.now())))
          : Promise.resolve(),
    };
  }

  reset(key: string): Promise<void> {
    return this.#call(key, (stub) => stub.reset());
  }

  async #call<T>(key: string, call: (stub: DurableObjectStub<RateLimiter>) => Promise<T>): Promise<T> {
    try {
      return await call(this.#namespace.get(this.#namespace.idFromName(key)));
    } catch (error) {
      throw new Unavailable("the service is temporarily unavailable; try again shortly", error);
    }
  }
}
