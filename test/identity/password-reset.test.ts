import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import {
  BASE,
  bearer,
  expectError,
  freshEmail,
  jsonRequest,
  login,
  newSession,
  outbox,
  PASSWORD,
  postJson,
  randomIp,
  send,
  sendWithEnv,
  signupAndVerify,
  userRow,
} from "../helpers";

const NEW_PASSWORD = "a brand new password 2026";

/** The link is created and mailed after the response: sendWithEnv waits for that work. */
async function requestReset(email: string): Promise<string> {
  const response = await sendWithEnv({}, jsonRequest("/auth/password-reset", { email }));
  expect(response.status).toBe(202);
  const mail = (await outbox(email)).find((m) => m.subject === "Reset your password");
  const token = /\/auth\/password-reset\?token=([A-Za-z0-9_-]+)/.exec(mail?.text ?? "")?.[1];
  if (!token) throw new Error("no reset link");
  return token;
}

function confirm(token: string, password = NEW_PASSWORD): Promise<Response> {
  return postJson("/auth/password-reset/confirm", { token, password });
}

describe("password reset", () => {
  it("answers 202 the same for known and unknown addresses, mailing only the known one", async () => {
    const email = await signupAndVerify();
    const unknown = freshEmail("nobody");
    const [a, b] = await Promise.all([
      sendWithEnv({}, jsonRequest("/auth/password-reset", { email })),
      sendWithEnv({}, jsonRequest("/auth/password-reset", { email: unknown })),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(await a.json()).toEqual(await b.json());
    expect((await outbox(unknown)).length).toBe(0);
    const mail = (await outbox(email)).at(-1);
    expect(mail?.text).toMatch(/^https:\/\/auth\.test\/auth\/password-reset\?token=/m);
  });

  it("sets the new password: the old one stops working", async () => {
    const email = await signupAndVerify();
    const response = await confirm(await requestReset(email));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ user: { email } });
    await login(email, NEW_PASSWORD);
    await expectError(await postJson("/auth/login", { email, password: PASSWORD }), 401, "invalid_credentials");
    expect((await outbox(email)).map((m) => m.subject)).toContain("Your password was reset");
  });

  it("ends every existing session", async () => {
    const session = await newSession();
    await confirm(await requestReset(session.email));
    const me = await send(new Request(`${BASE}/auth/me`, { headers: bearer(session.access_token) }));
    await expectError(me, 401, "invalid_token");
    await expectError(await postJson("/auth/refresh", { refresh_token: session.refresh_token }), 400, "invalid_grant");
  });

  it("is single-use, and other outstanding links die with the first one used", async () => {
    const email = await signupAndVerify();
    const first = await requestReset(email);
    const second = await requestReset(email);
    expect((await confirm(second)).status).toBe(200);
    await expectError(await confirm(second, "yet another password 99"), 400, "invalid_grant");
    await expectError(await confirm(first, "yet another password 99"), 400, "invalid_grant");
    await login(email, NEW_PASSWORD);
  });

  it("refuses an expired link and changes nothing", async () => {
    const email = await signupAndVerify();
    const token = await requestReset(email);
    const before = await userRow(email);
    await env.DB.prepare("UPDATE one_time_secrets SET expires_at = ? WHERE user_id = ? AND purpose = 'password_reset'")
      .bind(Date.now() - 1, before?.id)
      .run();
    await expectError(await confirm(token), 400, "invalid_grant");
    expect(await userRow(email)).toEqual(before);
  });

  it("refuses a weak new password without spending the link", async () => {
    const email = await signupAndVerify();
    const token = await requestReset(email);
    await expectError(await confirm(token, "password123"), 400, "weak_password");
    await expectError(await confirm(token, "lone \udc00 surrogate"), 400, "weak_password");
    expect((await confirm(token)).status).toBe(200);
  });

  it("unlocks a locked account", async () => {
    const email = await signupAndVerify();
    // A 10-minute lock: only the reset can lift it within this test.
    const longLock = { LOCKOUT_BASE_SECONDS: "600" };
    const attempt = (password: string) => sendWithEnv(longLock, jsonRequest("/auth/login", { email, password }));
    for (let i = 0; i < 5; i++) await attempt("wrong password entirely");
    await expectError(await attempt(PASSWORD), 429, "too_many_requests");
    await confirm(await requestReset(email));
    expect((await attempt(NEW_PASSWORD)).status).toBe(200);
  });

  it("answers 200 once the password is changed, even if a follow-up step fails", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const email = await signupAndVerify();
    const token = await requestReset(email);
    const real = env.RATE_LIMITER;
    const resetFails = {
      idFromName: (name: string) => real.idFromName(name),
      get: (id: DurableObjectId) => {
        const stub = real.get(id);
        return {
          consume: (...args: Parameters<typeof stub.consume>) => stub.consume(...args),
          reserveAttempt: (...args: Parameters<typeof stub.reserveAttempt>) => stub.reserveAttempt(...args),
          settleAttempt: (...args: Parameters<typeof stub.settleAttempt>) => stub.settleAttempt(...args),
          reset: async () => Promise.reject(new Error("limiter down")),
        };
      },
    };
    const response = await sendWithEnv(
      { RATE_LIMITER: resetFails },
      jsonRequest("/auth/password-reset/confirm", { token, password: NEW_PASSWORD }),
    );
    expect(response.status).toBe(200);
    await login(email, NEW_PASSWORD);
    expect((await outbox(email)).map((m) => m.subject)).toContain("Your password was reset");
    expect(log).toHaveBeenCalledWith(expect.stringContaining("unlock_account"));
    log.mockRestore();
  });

  it("verifies the address of an unverified account (the link proved it)", async () => {
    const email = freshEmail();
    await postJson("/auth/signup", { email, password: PASSWORD });
    await confirm(await requestReset(email));
    expect((await userRow(email))?.email_verified_at).not.toBeNull();
    await login(email, NEW_PASSWORD);
  });

  it("does not reset a disabled account", async () => {
    const email = await signupAndVerify();
    const token = await requestReset(email);
    await env.DB.prepare("UPDATE users SET disabled_at = ? WHERE email = ?").bind(Date.now(), email).run();
    const before = await userRow(email);
    await expectError(await confirm(token), 400, "invalid_grant");
    expect((await userRow(email))?.password_hash).toBe(before?.password_hash);
    // And a disabled account gets no new links.
    await sendWithEnv({}, jsonRequest("/auth/password-reset", { email }));
    expect((await outbox(email)).filter((m) => m.subject === "Reset your password")).toHaveLength(1);
  });

  it("serves the link's page without spending the token", async () => {
    const email = await signupAndVerify();
    const token = await requestReset(email);
    const page = await send(`${BASE}/auth/password-reset?token=${token}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('type="password"');
    expect(html).not.toContain(token);
    expect((await confirm(token)).status).toBe(200);
  });

  it("is rate-limited per address and refuses bad input", async () => {
    const email = freshEmail();
    for (let i = 0; i < 5; i++) await postJson("/auth/password-reset", { email }, { "CF-Connecting-IP": randomIp() });
    await expectError(await postJson("/auth/password-reset", { email }), 429, "too_many_requests");
    await expectError(await postJson("/auth/password-reset", {}), 400, "invalid_request");
    await expectError(await postJson("/auth/password-reset/confirm", { token: "x" }), 400, "invalid_request");
    await expectError(await confirm("not-a-real-token"), 400, "invalid_grant");
  });
});
