// The RateLimiter Durable Object on its own, with an injected clock: no test waits.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AttemptPolicy } from "../../src/limits/policies";
import { RATE_FLUSH_MS, type RateLimiter } from "../../src/limits/rate-limiter-object";

function limiter(label: string): DurableObjectStub<RateLimiter> {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`${label}:${crypto.randomUUID()}`));
}

const policy: AttemptPolicy = { maxFailures: 5, windowMs: 900_000, baseLockMs: 1000, maxLockMs: 900_000 };

async function fail(stub: DurableObjectStub<RateLimiter>, now: number): Promise<void> {
  const attempt = await stub.reserveAttempt(policy, now);
  expect(attempt.allowed).toBe(true);
  await stub.settleAttempt(policy, attempt.reservationId ?? "", "failure", now);
}

describe("RateLimiter: rate (GCRA)", () => {
  it("allows `limit` requests per window, then refuses with the time to wait", async () => {
    const stub = limiter("rate");
    const t0 = 1_000_000;
    const window = { limit: 3, windowMs: 60_000 };
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await stub.consume(window, t0));
    expect(answers.map((a) => a.allowed)).toEqual([true, true, true, false]);
    expect(answers.map((a) => a.remaining)).toEqual([2, 1, 0, 0]);
    expect(answers[3]?.retryAfterMs).toBe(20_000);
    expect((await stub.consume(window, t0 + 19_999)).allowed).toBe(false);
    expect((await stub.consume(window, t0 + 20_000)).allowed).toBe(true);
  });

  it("refills completely after a quiet window", async () => {
    const stub = limiter("rate");
    const window = { limit: 2, windowMs: 60_000 };
    await stub.consume(window, 0);
    await stub.consume(window, 0);
    expect((await stub.consume(window, 60_000)).remaining).toBe(1);
  });
});

describe("RateLimiter: login attempts", () => {
  it("locks after the 5th failure for 1 s, then doubles the lock with each failed probe", async () => {
    const stub = limiter("acct");
    const t0 = 5_000_000;
    for (let i = 0; i < 5; i++) await fail(stub, t0);
    const locked = await stub.reserveAttempt(policy, t0 + 999);
    expect(locked).toMatchObject({ allowed: false, locked: true, retryAfterMs: 1 });
    // After the lock: one probe; its failure locks for 2 s, then 4 s.
    await fail(stub, t0 + 1000);
    expect((await stub.reserveAttempt(policy, t0 + 2999)).allowed).toBe(false);
    await fail(stub, t0 + 3000);
    expect((await stub.reserveAttempt(policy, t0 + 3000)).retryAfterMs).toBe(4000);
    expect((await stub.reserveAttempt(policy, t0 + 7000)).allowed).toBe(true);
  });

  it("never locks for longer than the cap", async () => {
    const stub = limiter("acct");
    let now = 0;
    for (let i = 0; i < 20; i++) {
      let attempt = await stub.reserveAttempt(policy, now);
      while (!attempt.allowed) {
        now += attempt.retryAfterMs;
        attempt = await stub.reserveAttempt(policy, now);
      }
      await stub.settleAttempt(policy, attempt.reservationId ?? "", "failure", now);
    }
    // 20 failures: 2^14 s uncapped; capped at 15 minutes.
    const decision = await stub.reserveAttempt(policy, now);
    expect(decision).toMatchObject({ allowed: false, locked: true, retryAfterMs: 900_000 });
  });

  it("unlocks and forgets the failures after a quiet window", async () => {
    const stub = limiter("acct");
    for (let i = 0; i < 5; i++) await fail(stub, 0);
    // Locked until 1 s; the quiet window counts from the end of the lock.
    expect((await stub.reserveAttempt(policy, 1000 + policy.windowMs - 1)).failures).toBe(5);
    const later = 1000 + policy.windowMs;
    const decision = await stub.reserveAttempt(policy, later);
    expect(decision).toMatchObject({ allowed: true, failures: 0 });
  });

  it("a success resets the failure count and the backoff", async () => {
    const stub = limiter("acct");
    for (let i = 0; i < 4; i++) await fail(stub, 0);
    const ok = await stub.reserveAttempt(policy, 0);
    await stub.settleAttempt(policy, ok.reservationId ?? "", "success", 0);
    expect((await stub.reserveAttempt(policy, 0)).failures).toBe(0);
  });

  it("counts pending reservations, so concurrent attempts cannot overshoot the budget", async () => {
    const stub = limiter("acct");
    const decisions = await Promise.all(Array.from({ length: 20 }, () => stub.reserveAttempt(policy, 0)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
  });

  it("with countInFlight: false, admits any number in flight, yet still locks after settled failures", async () => {
    const stub = limiter("client");
    const busy = { ...policy, countInFlight: false };
    const decisions = await Promise.all(Array.from({ length: 20 }, () => stub.reserveAttempt(busy, 0)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(20);
    await Promise.all(decisions.slice(0, 5).map((d) => stub.settleAttempt(busy, d.reservationId ?? "", "failure", 1)));
    expect((await stub.reserveAttempt(busy, 2)).allowed).toBe(false);
  });

  it("gives back an abandoned reservation, and expires one that was never settled", async () => {
    const stub = limiter("acct");
    const held = await Promise.all(Array.from({ length: 5 }, () => stub.reserveAttempt(policy, 0)));
    expect((await stub.reserveAttempt(policy, 0)).allowed).toBe(false);
    await stub.settleAttempt(policy, held[0]?.reservationId ?? "", "abandon", 0);
    expect((await stub.reserveAttempt(policy, 0)).allowed).toBe(true);
    // The other four were never settled (say, the Worker died): after 30 s they stop counting.
    expect((await stub.reserveAttempt(policy, 30_000)).allowed).toBe(true);
  });

  it("reset() forgets a lock (a completed password reset unlocks)", async () => {
    const stub = limiter("acct");
    for (let i = 0; i < 5; i++) await fail(stub, 0);
    await stub.reset();
    expect((await stub.reserveAttempt(policy, 1)).allowed).toBe(true);
  });
});

describe("RateLimiter: housekeeping", () => {
  it("deletes idle state from its alarm", async () => {
    const stub = limiter("idle");
    const quick = { ...policy, windowMs: 1, baseLockMs: 1, maxLockMs: 1 };
    const attempt = await stub.reserveAttempt(quick, Date.now() - 60_000);
    await stub.settleAttempt(quick, attempt.reservationId ?? "", "failure", Date.now() - 60_000);
    // A failure is written at once; long past its window, it no longer matters.
    expect(await runInDurableObject(stub, (_, state) => state.storage.get("state"))).toBeDefined();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, (_, state) => state.storage.get("state"))).toBeUndefined();
  });

  it("writes a per-IP counter from its alarm, due within a second, not on every call", async () => {
    const stub = limiter("flush");
    const rate = { limit: 100, windowMs: 900_000 };
    const now = Date.now();
    for (let i = 0; i < 3; i++) await stub.consume(rate, now);
    expect(await runInDurableObject(stub, (_, state) => state.storage.get("state"))).toBeUndefined();
    const due = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
    expect(due).toBeGreaterThan(now);
    expect(due).toBeLessThanOrEqual(Date.now() + RATE_FLUSH_MS);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const stored = await runInDurableObject(stub, (_, state) => state.storage.get<{ tat: number }>("state"));
    // Three requests of 9 s each (900 s / 100) past `now`.
    expect(stored?.tat).toBe(now + 27_000);
    // Then the alarm waits for the state to go idle: the bucket is full again.
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBe(now + 27_000);
  });

  it("a new instance reads the counter the alarm wrote", async () => {
    const id = env.RATE_LIMITER.idFromName(`reload:${crypto.randomUUID()}`);
    const rate = { limit: 2, windowMs: 900_000 };
    const now = Date.now();
    const first = env.RATE_LIMITER.get(id);
    expect((await first.consume(rate, now)).allowed).toBe(true);
    expect((await first.consume(rate, now)).allowed).toBe(true);
    await runDurableObjectAlarm(first);
    // Drop the instance's memory: what is left is what storage holds.
    await runInDurableObject(first, (instance) => {
      (instance as unknown as { ctx: DurableObjectState }).ctx.abort("test: forget the instance");
    }).catch(() => {});
    const again = env.RATE_LIMITER.get(id);
    expect((await again.consume(rate, now)).allowed).toBe(false);
  });

  it("writes a reservation and a success from its alarm, a failure at once", async () => {
    const stub = limiter("relax");
    const now = Date.now();
    const stored = () => runInDurableObject(stub, (_, state) => state.storage.get<{ attempts?: unknown }>("state"));
    await fail(stub, now);
    const attempt = await stub.reserveAttempt(policy, now);
    await stub.settleAttempt(policy, attempt.reservationId ?? "", "success", now);
    // Storage still has the failure: the success (which only relaxes the budget) is not written yet.
    expect((await stored())?.attempts).toMatchObject({ failures: 1 });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stored())?.attempts).toMatchObject({ failures: 0, reservations: {} });
  });

  it("writes a failed login at once, not from the alarm", async () => {
    const stub = limiter("confirmed");
    await fail(stub, Date.now());
    const stored = await runInDurableObject(stub, (_, state) => state.storage.get<{ attempts: unknown }>("state"));
    expect(stored?.attempts).toMatchObject({ failures: 1 });
  });

  it("reports pending attempts, so a burst can be judged before any of it settles", async () => {
    const stub = limiter("acct");
    const first = await stub.reserveAttempt(policy, 0);
    const second = await stub.reserveAttempt(policy, 0);
    expect([first.pending, second.pending]).toEqual([0, 1]);
  });

  it("ignores settlements of unknown reservation ids, inherited names included", async () => {
    const stub = limiter("acct");
    for (let i = 0; i < 5; i++) await fail(stub, 0);
    await stub.settleAttempt(policy, "__proto__", "success", 0);
    await stub.settleAttempt(policy, "no-such-reservation", "success", 0);
    expect((await stub.reserveAttempt(policy, 10)).locked).toBe(true);
  });

  it("still counts a failure whose reservation expired before it settled", async () => {
    const stub = limiter("acct");
    const slow = await stub.reserveAttempt(policy, 0);
    await stub.settleAttempt(policy, slow.reservationId ?? "", "failure", 31_000);
    expect((await stub.reserveAttempt(policy, 31_000)).failures).toBe(1);
  });
});
