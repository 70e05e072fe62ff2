// Rate limits and lockout through HTTP, with the real RateLimiter Durable Object.
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import {
  expectError,
  freshEmail,
  jsonRequest,
  PASSWORD,
  postJson,
  randomIp,
  send,
  sendWithEnv,
  signupAndVerify,
} from "../helpers";

const WRONG = "definitely the wrong password";

function loginFrom(ip: string, email: string, password: string, extra: Record<string, string> = {}): Promise<Response> {
  return postJson("/auth/login", { email, password }, { "CF-Connecting-IP": ip, ...extra });
}

describe("per-account lockout", () => {
  it("lets exactly 5 of 50 concurrent wrong-password attempts reach the password check", async () => {
    const email = await signupAndVerify();
    const answers = await Promise.all(Array.from({ length: 50 }, () => loginFrom(randomIp(), email, WRONG)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(45);
  });

  it("lets exactly 5 of 200 concurrent wrong-password attempts reach the password check", async () => {
    const email = await signupAndVerify();
    const answers = await Promise.all(Array.from({ length: 200 }, () => loginFrom(randomIp(), email, WRONG)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(195);
  });

  it("runs a lock from the moment it is recorded, not from when its slow request started", async () => {
    const { AttemptBudget } = await import("../../src/authn/attempt-budget");
    const { RateLimiterStore } = await import("../../src/limits/rate-limiter-store");
    const lockout = { maxFailures: 1, windowMs: 900_000, baseLockMs: 2_000, maxLockMs: 900_000 };
    const budget = new AttemptBudget({ store: new RateLimiterStore(env.RATE_LIMITER), lockout });
    const email = freshEmail();
    // A request that started 5 s ago (a long queue, a slow hash) fails now.
    const slow = await budget.reserve(email, null, Date.now() - 5_000);
    await slow.settle("failure");
    const next = await budget.reserve(email, null, Date.now());
    expect(next.account.allowed).toBe(false);
    expect(next.account.locked).toBe(true);
    expect(next.account.retryAfterMs).toBeGreaterThan(1_000);
  });

  it("refuses even the correct password during a lock, with Retry-After", async () => {
    const email = await signupAndVerify();
    for (let i = 0; i < 5; i++)
      await expectError(await loginFrom(randomIp(), email, WRONG), 401, "invalid_credentials");
    const locked = await loginFrom(randomIp(), email, PASSWORD);
    await expectError(locked, 429, "too_many_requests");
    expect(Number(locked.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
  });

  it("counts an unknown account exactly like a real one, so a lock reveals nothing", async () => {
    const real = await signupAndVerify();
    const unknown = freshEmail("nobody");
    const run = async (email: string) => {
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await loginFrom(randomIp(), email, WRONG)).status);
      return statuses;
    };
    expect(await run(unknown)).toEqual(await run(real));
    expect(await run(freshEmail("nobody"))).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it("counts per normalized email: case and spaces do not buy extra attempts", async () => {
    const email = await signupAndVerify();
    const variants = [email, email.toUpperCase(), ` ${email}`, email, `${email} `];
    for (const variant of variants) await loginFrom(randomIp(), variant, WRONG);
    await expectError(await loginFrom(randomIp(), email, PASSWORD), 429, "too_many_requests");
  });

  it("a successful login resets the failure budget", async () => {
    const email = await signupAndVerify();
    for (let i = 0; i < 4; i++) await loginFrom(randomIp(), email, WRONG);
    expect((await loginFrom(randomIp(), email, PASSWORD)).status).toBe(200);
    for (let i = 0; i < 4; i++)
      await expectError(await loginFrom(randomIp(), email, WRONG), 401, "invalid_credentials");
  });
});

describe("per-IP limits", () => {
  const tight = { RATE_LIMIT_LOGIN_PER_IP: "3" };

  it("answers 429 with Retry-After and RateLimit fields once an IP is over its login limit", async () => {
    const ip = randomIp();
    const email = await signupAndVerify();
    const requests = () =>
      sendWithEnv(tight, jsonRequest("/auth/login", { email, password: PASSWORD }, { "CF-Connecting-IP": ip }));
    const first = await requests();
    expect(first.status).toBe(200);
    expect(first.headers.get("RateLimit-Policy")).toBe('"login";q=3;w=900');
    expect(first.headers.get("RateLimit")).toMatch(/^"login";r=2;t=\d+$/);
    await requests();
    await requests();
    const over = await requests();
    await expectError(over, 429, "too_many_requests");
    expect(Number(over.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(over.headers.get("RateLimit")).toMatch(/^"login";r=0;t=\d+$/);
  });

  it("past the login limit, reads nothing: no account lookup in D1", async () => {
    const ip = randomIp();
    const email = await signupAndVerify();
    let lookups = 0;
    // Counts single-row reads (the account lookup is one); writes pass through.
    const countingD1 = {
      prepare: (sql: string) => {
        const statement = env.DB.prepare(sql);
        return {
          bind: (...values: unknown[]) => {
            const bound = statement.bind(...values);
            return {
              first: (column?: string) => {
                lookups++;
                return column === undefined ? bound.first() : bound.first(column);
              },
              run: () => bound.run(),
              all: () => bound.all(),
            };
          },
        };
      },
    };
    const call = () =>
      sendWithEnv(
        { RATE_LIMIT_LOGIN_PER_IP: "1", DB: countingD1 },
        jsonRequest("/auth/login", { email, password: WRONG }, { "CF-Connecting-IP": ip }),
      );
    await expectError(await call(), 401, "invalid_credentials");
    const within = lookups;
    expect(within).toBeGreaterThan(0);
    await expectError(await call(), 429, "too_many_requests");
    expect(lookups).toBe(within);
  });

  it("keys on CF-Connecting-IP only: a client-sent X-Forwarded-For changes nothing", async () => {
    const ip = randomIp();
    const email = freshEmail();
    for (let i = 0; i < 3; i++) {
      const headers = { "CF-Connecting-IP": ip, "X-Forwarded-For": randomIp() };
      await sendWithEnv(tight, jsonRequest("/auth/login", { email, password: WRONG }, headers));
    }
    const spoofed = await sendWithEnv(
      tight,
      jsonRequest(
        "/auth/login",
        { email: freshEmail(), password: WRONG },
        { "CF-Connecting-IP": ip, "X-Forwarded-For": "203.0.113.9" },
      ),
    );
    await expectError(spoofed, 429, "too_many_requests");
    // Another real client IP is unaffected.
    const other = await sendWithEnv(tight, jsonRequest("/auth/login", { email: freshEmail(), password: WRONG }));
    expect(other.status).toBe(401);
  });

  it("counts an IPv6 client by its /64: rotating the interface id buys nothing", async () => {
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:1`;
    for (let i = 1; i <= 3; i++) {
      const headers = { "CF-Connecting-IP": `${prefix}::${i}` };
      await sendWithEnv(tight, jsonRequest("/auth/login", { email: freshEmail(), password: WRONG }, headers));
    }
    const next = await sendWithEnv(
      tight,
      jsonRequest(
        "/auth/login",
        { email: freshEmail(), password: WRONG },
        { "CF-Connecting-IP": `${prefix}:0:0:0:ffff` },
      ),
    );
    await expectError(next, 429, "too_many_requests");
  });

  it.each([
    ["/auth/signup", { RATE_LIMIT_SIGNUP_PER_IP: "2" }, () => ({ email: freshEmail(), password: PASSWORD })],
    ["/auth/refresh", { RATE_LIMIT_REFRESH_PER_IP: "2" }, () => ({ refresh_token: "elr_unknown" })],
    ["/auth/verify-email", { RATE_LIMIT_VERIFY_EMAIL_PER_IP: "2" }, () => ({ token: "unknown" })],
  ])("limits %s per IP too", async (path, limits, body) => {
    const ip = randomIp();
    const call = () => sendWithEnv(limits, jsonRequest(path, body(), { "CF-Connecting-IP": ip }));
    expect((await call()).status).not.toBe(429);
    expect((await call()).status).not.toBe(429);
    await expectError(await call(), 429, "too_many_requests");
  });

  it("limits signups per email address, whatever the IP", async () => {
    const email = freshEmail();
    for (let i = 0; i < 5; i++)
      expect((await postJson("/auth/signup", { email, password: PASSWORD })).status).toBe(202);
    await expectError(await postJson("/auth/signup", { email, password: PASSWORD }), 429, "too_many_requests");
  });
});

describe("when the rate limiter is unreachable", () => {
  it("fails closed: credential endpoints answer 503 temporarily_unavailable, even with the right password", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const broken = {
        idFromName: () => ({}),
        get: () => {
          throw new Error("Durable Object unreachable");
        },
      };
      const email = await signupAndVerify();
      const response = await sendWithEnv(
        { RATE_LIMITER: broken },
        jsonRequest("/auth/login", { email, password: PASSWORD }),
      );
      await expectError(response, 503, "temporarily_unavailable");
      expect(response.headers.get("Retry-After")).toBe("5");
      const signup = await sendWithEnv(
        { RATE_LIMITER: broken },
        jsonRequest("/auth/signup", { email: freshEmail(), password: PASSWORD }),
      );
      await expectError(signup, 503, "temporarily_unavailable");
    } finally {
      log.mockRestore();
    }
  });

  it("leaves non-credential routes working", async () => {
    const broken = {
      idFromName: () => ({}),
      get: () => {
        throw new Error("down");
      },
    };
    expect(
      (await sendWithEnv({ RATE_LIMITER: broken }, new Request("https://auth.test/.well-known/jwks.json"))).status,
    ).toBe(200);
    expect((await send("https://auth.test/health")).status).toBe(200);
  });
});
