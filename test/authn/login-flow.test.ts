// The login flow on its own, with fake login methods: what a method returns is
// what the session starts from, and the second-factor seam stops a login
// before any session exists without resetting the failure budget.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { AuthError } from "../../src/app/errors/codes";
import { deferrer, type RequestContext } from "../../src/app/request-context";
import { AuditLog } from "../../src/audit/audit-log";
import { AuditStore } from "../../src/audit/audit-store";
import { AttemptBudget } from "../../src/authn/attempt-budget";
import { LoginFlow } from "../../src/authn/login-flow";
import type { AuthenticationResult, LoginMethod, MethodOutcome, SecondFactorPolicy } from "../../src/authn/types";
import type { UserRecord } from "../../src/identity/user-store";
import { settled } from "../../src/lib/settled";
import { loginAccountKey } from "../../src/limits/keys";
import { RateLimiterStore } from "../../src/limits/rate-limiter-store";
import { signupAndVerify, userRow } from "../helpers";

const lockout = { maxFailures: 5, windowMs: 900_000, baseLockMs: 1000, maxLockMs: 900_000 };

function context(): { ctx: RequestContext; pending: Promise<unknown>[] } {
  const pending: Promise<unknown>[] = [];
  const meta = { ip: "198.51.100.9", userAgent: "test", country: null, requestId: crypto.randomUUID() };
  const defer = deferrer((p) => pending.push(p), meta.requestId);
  const audit = new AuditLog({ store: new AuditStore(env.DB), meta, defer });
  return { ctx: { now: Date.now(), meta, audit, defer }, pending };
}

/** A login method that answers what it is told to. */
function fakeMethod(answer: (user: UserRecord) => MethodOutcome, user: UserRecord): LoginMethod<string, null> {
  return {
    prepare: () => settled(Promise.resolve(null)),
    authenticate: async () => answer(user),
  };
}

function flow(options: { secondFactor?: SecondFactorPolicy; recorded?: AuthenticationResult[] } = {}) {
  return new LoginFlow({
    budget: new AttemptBudget({ store: new RateLimiterStore(env.RATE_LIMITER), lockout }),
    captcha: { verifier: null, afterFailures: 3 },
    onSuccess: async (result) => {
      options.recorded?.push(result);
    },
    secondFactor: options.secondFactor,
  });
}

async function failuresOf(email: string): Promise<number> {
  const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(loginAccountKey(email)));
  const decision = await stub.reserveAttempt(lockout, Date.now());
  await stub.settleAttempt(lockout, decision.reservationId ?? "", "abandon", Date.now());
  return decision.failures;
}

async function verifiedUser(): Promise<UserRecord> {
  const email = await signupAndVerify();
  return (await userRow(email)) as unknown as UserRecord;
}

describe("the login flow", () => {
  it("starts the session from what the method returned, and records the login after the response", async () => {
    const user = await verifiedUser();
    const { ctx, pending } = context();
    const recorded: AuthenticationResult[] = [];
    const passkey = fakeMethod((u) => ({ ok: true, result: { user: u, amr: ["hwk", "user"], authTime: 42 } }), user);
    const started = await flow({ recorded }).login(passkey, { email: user.email, input: "" }, ctx, async (auth) => ({
      started: auth,
    }));
    expect(started).toEqual({ started: { user, amr: ["hwk", "user"], authTime: 42 } });
    await Promise.all(pending);
    expect(recorded.map((r) => r.amr)).toEqual([["hwk", "user"]]);
  });

  it("counts a refused credential against the account's budget and answers invalid_credentials", async () => {
    const user = await verifiedUser();
    const { ctx } = context();
    const wrong = fakeMethod((u) => ({ ok: false, reason: "wrong_code", userId: u.id }), user);
    const start = async () => {
      throw new Error("no session may start");
    };
    await expect(flow().login(wrong, { email: user.email, input: "" }, ctx, start)).rejects.toMatchObject({
      code: "invalid_credentials",
    });
    expect(await failuresOf(user.email)).toBe(1);
  });

  it("answers second_factor_required when the policy asks, starting no session", async () => {
    const user = await verifiedUser();
    const { ctx, pending } = context();
    const recorded: AuthenticationResult[] = [];
    const secondFactor: SecondFactorPolicy = async (first) => ({
      kind: "second_factor_required",
      firstFactor: first,
      methods: ["otp"],
    });
    const password = fakeMethod((u) => ({ ok: true, result: { user: u, amr: ["pwd"], authTime: ctx.now } }), user);
    let sessions = 0;
    const outcome = await flow({ secondFactor, recorded }).login(
      password,
      { email: user.email, input: "" },
      ctx,
      async () => {
        sessions++;
        return "session";
      },
    );
    expect(outcome).toMatchObject({ kind: "second_factor_required", methods: ["otp"], firstFactor: { amr: ["pwd"] } });
    expect(sessions).toBe(0);
    await Promise.all(pending);
    expect(recorded).toEqual([]);
  });

  it("keeps earlier failures when a first factor succeeds but a second is required", async () => {
    const user = await verifiedUser();
    const wrong = fakeMethod((u) => ({ ok: false, reason: "wrong_password", userId: u.id }), user);
    const right = fakeMethod((u) => ({ ok: true, result: { user: u, amr: ["pwd"], authTime: 1 } }), user);
    const never = async () => "session";
    for (let i = 0; i < 2; i++) {
      await flow()
        .login(wrong, { email: user.email, input: "" }, context().ctx, never)
        .catch((error: unknown) => {
          if (!(error instanceof AuthError)) throw error;
        });
    }
    const secondFactor: SecondFactorPolicy = async (first) => ({
      kind: "second_factor_required",
      firstFactor: first,
      methods: ["otp"],
    });
    await flow({ secondFactor }).login(right, { email: user.email, input: "" }, context().ctx, never);
    // A password alone must not buy fresh guesses at the second factor.
    expect(await failuresOf(user.email)).toBe(2);
    // Without a second factor, the same success resets the budget.
    const { ctx, pending } = context();
    await flow().login(right, { email: user.email, input: "" }, ctx, never);
    await Promise.all(pending);
    expect(await failuresOf(user.email)).toBe(0);
  });
});
