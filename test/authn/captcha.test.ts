// Turnstile: demanded after repeated failures, verified server-side (fetch stubbed).
import { afterEach, describe, expect, it, vi } from "vitest";
import { TURNSTILE_SITEVERIFY_URL } from "../../src/authn/captcha";
import { expectError, freshEmail, jsonRequest, PASSWORD, randomIp, sendWithEnv, signupAndVerify } from "../helpers";

const WRONG = "definitely the wrong password";
const withCaptcha = { TURNSTILE_SECRET: "turnstile-secret", CAPTCHA_AFTER_FAILURES: "2", LOGIN_MAX_FAILURES: "5" };

afterEach(() => vi.unstubAllGlobals());

/** Stubs siteverify: tokens named "good" pass. Records what was asked. */
function stubSiteverify(): { secret: string | null; response: string | null; remoteip: string | null }[] {
  const calls: { secret: string | null; response: string | null; remoteip: string | null }[] = [];
  vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
    expect(String(url)).toBe(TURNSTILE_SITEVERIFY_URL);
    const form = init.body as FormData;
    const call = {
      secret: form.get("secret") as string | null,
      response: form.get("response") as string | null,
      remoteip: form.get("remoteip") as string | null,
    };
    calls.push(call);
    return Response.json({ success: call.response === "good" });
  });
  return calls;
}

function login(email: string, password: string, captcha?: string, ip = randomIp()): Promise<Response> {
  const body = captcha === undefined ? { email, password } : { email, password, captcha_token: captcha };
  return sendWithEnv(withCaptcha, jsonRequest("/auth/login", body, { "CF-Connecting-IP": ip }));
}

describe("CAPTCHA (Turnstile)", () => {
  it("is not asked for before the threshold", async () => {
    const calls = stubSiteverify();
    const email = await signupAndVerify();
    await expectError(await login(email, WRONG), 401, "invalid_credentials");
    expect((await login(email, PASSWORD)).status).toBe(200);
    expect(calls).toEqual([]);
  });

  it("is demanded after N failures for the account, even with the right password", async () => {
    stubSiteverify();
    const email = await signupAndVerify();
    await login(email, WRONG);
    await login(email, WRONG);
    const response = await login(email, PASSWORD);
    await expectError(response, 401, "captcha_required");
  });

  it("accepts a valid token, sending secret, token and client IP to siteverify", async () => {
    const calls = stubSiteverify();
    const email = await signupAndVerify();
    await login(email, WRONG);
    await login(email, WRONG);
    const ip = randomIp();
    expect((await login(email, PASSWORD, "good", ip)).status).toBe(200);
    expect(calls).toEqual([{ secret: "turnstile-secret", response: "good", remoteip: ip }]);
  });

  it("refuses an invalid token with captcha_required, without counting a password failure", async () => {
    stubSiteverify();
    const email = await signupAndVerify();
    await login(email, WRONG);
    await login(email, WRONG);
    for (let i = 0; i < 5; i++) await expectError(await login(email, PASSWORD, "bad"), 401, "captcha_required");
    // Not locked: the CAPTCHA refusals gave their reservations back.
    expect((await login(email, PASSWORD, "good")).status).toBe(200);
  });

  it("is demanded after N failures from one IP, across accounts", async () => {
    stubSiteverify();
    const ip = randomIp();
    await login(freshEmail(), WRONG, undefined, ip);
    await login(freshEmail(), WRONG, undefined, ip);
    const email = await signupAndVerify();
    await expectError(await login(email, PASSWORD, undefined, ip), 401, "captcha_required");
    expect((await login(email, PASSWORD, undefined, randomIp())).status).toBe(200);
  });

  it("meets a parallel burst against one account at the threshold, not after it settles", async () => {
    stubSiteverify();
    const email = await signupAndVerify();
    const answers = await Promise.all(Array.from({ length: 5 }, () => login(email, WRONG)));
    const codes = await Promise.all(answers.map(async (r) => ((await r.json()) as { error: string }).error));
    // Threshold 2: at most 2 guesses reach the password check; the rest must solve a CAPTCHA.
    expect(codes.filter((c) => c === "invalid_credentials")).toHaveLength(2);
    expect(codes.filter((c) => c === "captcha_required")).toHaveLength(3);
  });

  it("meets a parallel burst from one IP across many accounts at the threshold", async () => {
    stubSiteverify();
    const ip = randomIp();
    const answers = await Promise.all(Array.from({ length: 10 }, () => login(freshEmail(), WRONG, undefined, ip)));
    const codes = await Promise.all(answers.map(async (r) => ((await r.json()) as { error: string }).error));
    expect(codes.filter((c) => c === "invalid_credentials")).toHaveLength(2);
    expect(codes.filter((c) => c === "captcha_required")).toHaveLength(8);
  });

  it("does not let a login to one's own account wipe the IP's failures", async () => {
    stubSiteverify();
    const ip = randomIp();
    const mine = await signupAndVerify();
    await login(freshEmail(), WRONG, undefined, ip);
    expect((await login(mine, PASSWORD, undefined, ip)).status).toBe(200);
    await login(freshEmail(), WRONG, undefined, ip);
    await expectError(await login(freshEmail(), WRONG, undefined, ip), 401, "captcha_required");
  });

  it("fails closed when siteverify is unreachable", async () => {
    vi.stubGlobal("fetch", async () => {
      throw new Error("network down");
    });
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const email = await signupAndVerify();
    await login(email, WRONG);
    await login(email, WRONG);
    await expectError(await login(email, PASSWORD, "good"), 503, "temporarily_unavailable");
    log.mockRestore();
  });
});
