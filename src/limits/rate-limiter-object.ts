/**
 * @module limits/rate-limiter-object
 * The RateLimiter Durable Object (SQLite-backed): exact, atomic counters, one
 * object per key (`login:ip:<addr>`, `login:acct:<email>` …) so that no single
 * object is a global hot spot.
 *
 * Why a Durable Object: counting needs atomic read-modify-write, which KV cannot
 * do. State is loaded once per instance and every method below is synchronous
 * over it, so each call runs to completion before the next one starts: no two
 * requests can both see "one attempt left". Writes go to the object's SQLite
 * storage (through the storage KV API).
 *
 * The clock is the caller's `now` (epoch ms), so tests move time without
 * waiting. One alarm does the housekeeping: it writes per-IP counters (which
 * calls leave in memory, see consume()) and deletes the state of idle objects.
 *
 * Two kinds of counter (an object only ever uses the kind its key is for):
 *  - rate:     GCRA, "at most `limit` per `windowMs`", for per-IP route limits;
 *  - attempts: failed-login budget with reservations and an exponential lock
 *              (per account; per IP with a budget that never locks, for the CAPTCHA).
 */
import { DurableObject } from "cloudflare:workers";
import type { AttemptDecision, AttemptOutcome, AttemptPolicy, RateDecision, RatePolicy } from "./policies";

// A reservation whose Worker died before settling it stops counting after this.
const RESERVATION_TTL_MS = 30_000;

interface State {
  tat?: number;
  /** Refusals of the GCRA counter since its last allowed request. */
  refused?: number;
  attempts?: {
    failures: number;
    lastFailureAt: number;
    lockedUntil: number;
    lockLevel: number;
    reservations: Record<string, number>;
    /** Refused reservations since the last allowed one. */
    refused?: number;
  };
  /** When the state stops mattering: the alarm deletes it after this. */
  idleAt: number;
}

/**
 * How long a per-IP counter may be ahead of storage: its alarm writes it at most
 * this long after the first unwritten change, instead of every call writing it.
 */
export const RATE_FLUSH_MS = 1_000;

export class RateLimiter extends DurableObject<Env> {
  #state: State | undefined;
  /** When the one scheduled alarm fires (epoch ms), null if none; read from storage once per instance. */
  #alarmAt: number | null = null;
  /** Whether memory holds per-IP changes that storage does not have yet (written by the alarm). */
  #dirty = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Loaded once per instance, before any call runs; afterwards every method is
    // synchronous over memory, so each call is atomic.
    void ctx.blockConcurrencyWhile(async () => {
      this.#state = await ctx.storage.get<State>("state");
      this.#alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Answers once the state is loaded, changing nothing: GET /ready's probe. */
  ping(): true {
    return true;
  }

  /** GCRA: allows `limit` requests per `windowMs`, refilling smoothly. */
  consume(policy: RatePolicy, now: number): RateDecision {
    const state = this.#load(now);
    const interval = policy.windowMs / policy.limit;
    const tat = Math.max(state.tat ?? now, now);
    const next = tat + interval;
    if (next - now > policy.windowMs) {
      state.refused = (state.refused ?? 0) + 1;
      this.#save(state, tat, { confirmed: false });
      return {
        allowed: false,
        limit: policy.limit,
        remaining: 0,
        resetMs: Math.ceil(tat - now),
        retryAfterMs: Math.ceil(next - now - policy.windowMs),
        refusedInARow: state.refused,
      };
    }
    state.tat = next;
    state.refused = 0;
    // Per-IP counters are the hot path (every login and refresh): memory is the
    // truth while the object lives, and storage gets the counter from the alarm
    // within RATE_FLUSH_MS, so a burst costs a few storage operations a second
    // (the put and the alarm's rescheduling) instead of one per request. An
    // object is only evicted after it has been idle far longer than that, so
    // only a crash or a deploy (which restarts every object) can forget
    // increments: at most a second's worth for one IP, which a limit of ~100 per
    // window tolerates.
    this.#save(state, next, { confirmed: false });
    return {
      allowed: true,
      limit: policy.limit,
      remaining: Math.floor((policy.windowMs - (next - now)) / interval),
      resetMs: Math.ceil(next - now),
      retryAfterMs: 0,
      refusedInARow: 0,
    };
  }

  /**
   * Reserves one login attempt against the failure budget. Reservations count
   * as failures until settled, so N concurrent attempts can never all slip in
   * under a budget of fewer than N.
   */
  reserveAttempt(policy: AttemptPolicy, now: number): AttemptDecision {
    const state = this.#load(now);
    const attempts = this.#attempts(state, policy, now);
    const pending = Object.keys(attempts.reservations).length;
    const deny = (retryAfterMs: number, locked: boolean): AttemptDecision => {
      attempts.refused = (attempts.refused ?? 0) + 1;
      this.#save(state, this.#attemptsIdleAt(attempts, policy), { confirmed: false });
      return {
        allowed: false,
        reservationId: null,
        failures: attempts.failures,
        pending,
        retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)),
        locked,
        refusedInARow: attempts.refused,
      };
    };
    if (attempts.lockedUntil > now) return deny(attempts.lockedUntil - now, true);
    // Over budget but the lock has run out: exactly one probe at a time, whose
    // failure doubles the next lock (backoff). Under budget: count reservations.
    const overBudget = attempts.failures >= policy.maxFailures;
    const inFlight = policy.countInFlight === false ? 0 : pending;
    if (overBudget ? pending > 0 : attempts.failures + inFlight >= policy.maxFailures) {
      return deny(1000, overBudget);
    }
    const reservationId = crypto.randomUUID();
    attempts.reservations[reservationId] = now + RESERVATION_TTL_MS;
    attempts.refused = 0;
    // Reservations only matter while this instance serves the calls (they live
    // 30 s at most): memory holds them exactly, and the alarm writes them. A
    // crash or deploy mid-burst forgets the in-flight ones (so a burst then may
    // briefly exceed the budget); their failures still count when they settle.
    this.#save(state, this.#attemptsIdleAt(attempts, policy), { confirmed: false });
    return {
      allowed: true,
      reservationId,
      failures: attempts.failures,
      pending,
      retryAfterMs: 0,
      locked: false,
      refusedInARow: 0,
    };
  }

  settleAttempt(policy: AttemptPolicy, reservationId: string, outcome: AttemptOutcome, now: number): void {
    const state = this.#load(now);
    const attempts = this.#attempts(state, policy, now);
    const reserved = Object.hasOwn(attempts.reservations, reservationId);
    // A failure whose reservation already expired (a slow request) still counts;
    // anything else without a live reservation is ignored.
    if (!reserved && outcome !== "failure") return;
    delete attempts.reservations[reservationId];
    if (outcome === "success") {
      // The owner proved the password: the budget and any backoff start over.
      attempts.failures = 0;
      attempts.lockLevel = 0;
      attempts.lockedUntil = 0;
    } else if (outcome === "failure") {
      attempts.failures += 1;
      attempts.lastFailureAt = now;
      if (attempts.failures >= policy.maxFailures) {
        attempts.lockedUntil = now + Math.min(policy.baseLockMs * 2 ** attempts.lockLevel, policy.maxLockMs);
        attempts.lockLevel += 1;
        // A lock starts a run of refusals of its own: its first refusal is audited as locked.
        attempts.refused = 0;
      }
    }
    // A failure (and any lock it starts) is durable before the caller answers: a
    // crash must not hand out fresh guesses. A success or abandon only relaxes the
    // budget, so it may reach storage a moment later, from the alarm.
    this.#save(state, this.#attemptsIdleAt(attempts, policy), { confirmed: outcome === "failure" });
  }

  /** Forgets everything (e.g. after a completed password reset). */
  async reset(): Promise<void> {
    this.#state = { idleAt: 0 };
    this.#alarmAt = null;
    this.#dirty = false;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  /** Writes unwritten per-IP changes, and deletes the state once it no longer matters. */
  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    const now = Date.now();
    const state = this.#load(now);
    if (state.idleAt <= now) {
      await this.reset();
      return;
    }
    if (this.#dirty) {
      await this.ctx.storage.put("state", state);
      // Only once written: if the put fails, the alarm is retried and writes it then.
      this.#dirty = false;
    }
    this.#alarmAt = state.idleAt;
    await this.ctx.storage.setAlarm(state.idleAt);
  }

  #attempts(state: State, policy: AttemptPolicy, now: number): NonNullable<State["attempts"]> {
    state.attempts ??= { failures: 0, lastFailureAt: 0, lockedUntil: 0, lockLevel: 0, reservations: {} };
    const attempts = state.attempts;
    for (const [id, expiresAt] of Object.entries(attempts.reservations)) {
      if (expiresAt <= now) delete attempts.reservations[id];
    }
    // A quiet window (no failure for `windowMs`, no lock running) forgets the
    // failures and the backoff level: a lock is never permanent.
    // The quiet time counts from the end of the last lock, so a long lock does not
    // wipe the backoff level the moment it runs out.
    const quietSince = Math.max(attempts.lastFailureAt, attempts.lockedUntil);
    if (attempts.failures > 0 && now - quietSince >= policy.windowMs) {
      attempts.failures = 0;
      attempts.lockLevel = 0;
    }
    return attempts;
  }

  #attemptsIdleAt(attempts: NonNullable<State["attempts"]>, policy: AttemptPolicy): number {
    return Math.max(
      attempts.lastFailureAt + policy.windowMs,
      attempts.lockedUntil + policy.windowMs,
      ...Object.values(attempts.reservations),
    );
  }

  #load(now: number): State {
    this.#state ??= { idleAt: now };
    return this.#state;
  }

  /**
   * `confirmed`: written now, and the reply waits until the write is durable (the
   * output gate); every failed login is. Otherwise (per-IP counters, reservations,
   * successes) memory is the truth and the alarm writes it within RATE_FLUSH_MS;
   * see consume().
   */
  #save(state: State, idleAt: number, options: { confirmed: boolean }): void {
    state.idleAt = Math.max(state.idleAt, idleAt);
    this.#state = state;
    if (options.confirmed) {
      this.#dirty = false;
      void this.ctx.storage.put("state", state);
      // One pending alarm is enough: when it fires early it reschedules itself to
      // the then-current idleAt.
      if (this.#alarmAt === null) this.#setAlarm(state.idleAt, { confirmed: true });
    } else {
      this.#dirty = true;
      const flushBy = Date.now() + RATE_FLUSH_MS;
      // An alarm already due by then will write it; otherwise bring one forward
      // (so at most one alarm write per RATE_FLUSH_MS, not one per call).
      if (this.#alarmAt === null || this.#alarmAt > flushBy) this.#setAlarm(flushBy, { confirmed: false });
    }
  }

  #setAlarm(at: number, options: { confirmed: boolean }): void {
    this.#alarmAt = at;
    void this.ctx.storage.setAlarm(at, { allowUnconfirmed: !options.confirmed });
  }
}
