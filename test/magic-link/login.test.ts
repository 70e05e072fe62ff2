// Logging in with a magic link (its token) or with the address and the mailed
// code: the same answers as a password login, through the same login flow
// (lockout, disabled accounts, the second factor), single use, 15 minutes,
// five tries at the code, and the address proven by it.
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  BASE,
  bearer,
  expectError,
  freshEmail,
  jsonRequest,
  outbox,
  PASSWORD,
  postJson,
  randomIp,
  send,
  sendWithEnv,
  signupAndVerify,
  type TokenResponse,
  userRow,
  verificationTokenFrom,
} from "../helpers";
import { codeFor, verify as mfaVerify, newMfaUser } from "../mfa/support";
import { allLinkRows, linkRow, mailedLink, otherCode, verify, verifyWithEnv } from "./support";

afterEach(() => {
  vi.useRealTimers();
});

function me(headers: Record<string, string>): Promise<Response> {
  return send(new Request(`${BASE}/auth/me`, { headers }));
}

async function tokens(response: Response): Promise<TokenResponse> {
  expect(response.status).toBe(200);
  const body = (await response.json()) as TokenResponse;
  expect(Object.keys(body).sort()).toEqual(["access_token", "expires_in", "refresh_token", "token_type", "user"]);
  return body;
}

/** A failure budget no test here reaches by accident, for tests about the link's own counter. */
const ROOMY_BUDGET = { LOGIN_MAX_FAILURES: "50" };

describe("POST /auth/magic-link/verify", () => {
  it("logs in with the link's token: a token response, amr email, the login audited", async () => {
    const email = await signupAndVerify();
    const { token } = await mailedLink(email);
    const body = await tokens(await verify({ token }));
    expect(body.user.email).toBe(email);
    expect(body.token_type).toBe("Bearer");
    const claims = decodeJwt(body.access_token);
    expect(claims.amr).toEqual(["email"]);
    expect(claims.auth_time).toEqual(expect.any(Number));
    expect((await me(bearer(body.access_token))).status).toBe(200);
    expect((await postJson("/auth/refresh", { refresh_token: body.refresh_token })).status).toBe(200);
    await vi.waitFor(async () => {
      const row = await env.DB.prepare("SELECT details FROM audit_log WHERE user_id = ? AND event = 'login_succeeded'")
        .bind(body.user.id)
        .first<{ details: string }>();
      expect(JSON.parse(row?.details ?? "{}").amr).toEqual(["email"]);
    });
  });

  it("logs in with the address and the code (any case, spaces in the code)", async () => {
    const email = await signupAndVerify();
    const { code, token } = await mailedLink(email);
    const spaced = `${code.slice(0, 3)} ${code.slice(3)}`;
    const body = await tokens(await verify({ email: email.toUpperCase(), code: spaced }));
    expect(body.user.email).toBe(email);
    // The code spent the link too.
    await expectError(await verify({ token }), 400, "invalid_grant");
  });

  it("is single use: a second use of the link, or of its code, is refused", async () => {
    const email = await signupAndVerify();
    const { token, code } = await mailedLink(email);
    expect((await verify({ token })).status).toBe(200);
    const again = await expectError(await verify({ token }), 400, "invalid_grant");
    expect(again.error_description).toMatch(/already used/);
    await expectError(await verify({ email, code }), 401, "invalid_credentials");
  });

  it("expires after 15 minutes (link and code), and works until then", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    vi.setSystemTime(start);
    const email = await signupAndVerify();
    const early = await mailedLink(email);
    vi.setSystemTime(start + 15 * 60_000 - 1000);
    expect((await verify({ token: early.token })).status).toBe(200);

    const late = await mailedLink(email);
    vi.setSystemTime(Date.now() + 15 * 60_000);
    await expectError(await verify({ token: late.token }), 400, "invalid_grant");
    await expectError(await verify({ email, code: late.code }), 401, "invalid_credentials");
    const page = await send(`${BASE}/auth/magic-link?token=${late.token}`);
    expect(page.status).toBe(400);
  });

  it("allows five tries at the code; then the link is dead too, the right code included", async () => {
    const email = await signupAndVerify();
    const { token, code } = await mailedLink(email);
    for (let i = 0; i < 5; i++) {
      await expectError(
        await verifyWithEnv(ROOMY_BUDGET, { email, code: otherCode(code) }),
        401,
        "invalid_credentials",
      );
    }
    expect(await linkRow(token)).toMatchObject({ attempts: 5, used_at: expect.any(Number) });
    await expectError(await verifyWithEnv(ROOMY_BUDGET, { email, code }), 401, "invalid_credentials");
    await expectError(await verifyWithEnv(ROOMY_BUDGET, { token }), 400, "invalid_grant");
  });

  it("caps typed codes per address per day across links: new links do not buy fresh guesses", async () => {
    const email = await signupAndVerify();
    const first = await mailedLink(email);
    for (let i = 0; i < 5; i++) {
      await expectError(
        await verifyWithEnv(ROOMY_BUDGET, { email, code: otherCode(first.code) }),
        401,
        "invalid_credentials",
      );
    }
    const second = await mailedLink(email);
    for (let i = 0; i < 5; i++) {
      await expectError(
        await verifyWithEnv(ROOMY_BUDGET, { email, code: otherCode(second.code) }),
        401,
        "invalid_credentials",
      );
    }
    // The day's ten codes are spent: even the right code of a fresh link is refused, and the link itself still works.
    const third = await mailedLink(email);
    await expectError(await verifyWithEnv(ROOMY_BUDGET, { email, code: third.code }), 401, "invalid_credentials");
    expect(await linkRow(third.token)).toMatchObject({ used_at: null });
    expect((await verifyWithEnv(ROOMY_BUDGET, { token: third.token })).status).toBe(200);
  });

  it("counts wrong codes against the account too: the login lock stops the code and the password", async () => {
    const email = await signupAndVerify();
    const { token, code } = await mailedLink(email);
    for (let i = 0; i < 4; i++)
      await expectError(await verify({ email, code: otherCode(code) }), 401, "invalid_credentials");
    // The fifth failure is a wrong password: one budget for every way in.
    await expectError(
      await postJson("/auth/login", { email, password: "not the password" }),
      401,
      "invalid_credentials",
    );
    const locked = await verify({ token });
    await expectError(locked, 429, "too_many_requests");
    expect(Number(locked.headers.get("Retry-After"))).toBeGreaterThan(0);
    await expectError(await postJson("/auth/login", { email, password: PASSWORD }), 429, "too_many_requests");
    // The lock refused the link without spending it.
    expect(await linkRow(token)).toMatchObject({ used_at: null, attempts: 4 });
  });

  it("refuses a code sent with another address, and that costs the other address's link a try, not this one's", async () => {
    const alice = await signupAndVerify();
    const bob = await signupAndVerify();
    const a = await mailedLink(alice);
    const b = await mailedLink(bob);
    const wrong = a.code === b.code ? otherCode(b.code) : a.code;
    const refused = await expectError(await verify({ email: bob, code: wrong }), 401, "invalid_credentials");
    // An address with no link at all answers the same.
    const nobody = await expectError(await verify({ email: freshEmail(), code: a.code }), 401, "invalid_credentials");
    expect(nobody).toEqual(refused);
    expect(await linkRow(b.token)).toMatchObject({ attempts: 1, used_at: null });
    expect(await linkRow(a.token)).toMatchObject({ attempts: 0, used_at: null });
    expect((await tokens(await verify({ email: alice, code: a.code }))).user.email).toBe(alice);
  });

  it("starts a cookie session when the link was asked for with mode cookie (and remember_me)", async () => {
    const email = await signupAndVerify();
    const { token } = await mailedLink(email, { mode: "cookie", remember_me: true });
    const response = await verify({ token });
    expect(response.status).toBe(200);
    const setCookie = response.headers.get("Set-Cookie") ?? "";
    expect(setCookie).toMatch(/^__Host-edgelock_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; Max-Age=2592000/);
    const body = (await response.json()) as { csrf_token: string; user: { email: string } };
    expect(Object.keys(body).sort()).toEqual(["csrf_token", "user"]);
    expect(body.user.email).toBe(email);
    const cookie = /^(__Host-edgelock_session=[^;]+)/.exec(setCookie)?.[1] ?? "";
    const whoami = await me({ Cookie: cookie });
    expect(whoami.status).toBe(200);
    expect(await whoami.json()).toMatchObject({ user: { email } });
  });

  it("keeps the mode bound into the link: the code of a cookie-mode link starts a cookie session too", async () => {
    const email = await signupAndVerify();
    const { code } = await mailedLink(email, { mode: "cookie" });
    const response = await verify({ email, code, mode: "token" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Set-Cookie")).toMatch(/^__Host-edgelock_session=/);
    expect(Object.keys(await response.json()).sort()).toEqual(["csrf_token", "user"]);
  });

  it("refuses a disabled account's link, like a wrong one, and spends nothing", async () => {
    const email = await signupAndVerify();
    const { token, code } = await mailedLink(email);
    await env.DB.prepare("UPDATE users SET disabled_at = ? WHERE email = ?").bind(Date.now(), email).run();
    await expectError(await verify({ token }), 401, "invalid_credentials");
    await expectError(await verify({ email, code }), 401, "invalid_credentials");
    expect(await linkRow(token)).toMatchObject({ used_at: null });
    await env.DB.prepare("UPDATE users SET disabled_at = NULL WHERE email = ?").bind(email).run();
    expect((await verify({ token })).status).toBe(200);
  });

  it("asks a user with two-step login on for the second factor, as after a password", async () => {
    const user = await newMfaUser();
    const { token } = await mailedLink(user.email);
    const response = await verify({ token });
    expect(response.status).toBe(401);
    expect(response.headers.get("Set-Cookie")).toBeNull();
    const challenge = (await response.json()) as { error: string; mfa_token: string; methods: string[] };
    expect(Object.keys(challenge).sort()).toEqual(["error", "error_description", "methods", "mfa_token"]);
    expect(challenge).toMatchObject({ error: "mfa_required", methods: ["totp", "recovery_code"] });
    // The link is spent: the mfa_token carries the login on.
    await expectError(await verify({ token }), 400, "invalid_grant");
    const done = await mfaVerify({ mfa_token: challenge.mfa_token, code: await codeFor(user.secret) });
    const body = await tokens(done);
    expect(decodeJwt(body.access_token).amr).toEqual(["email", "otp", "mfa"]);
  });

  it("keeps a cookie-mode link's mode through the second factor", async () => {
    const user = await newMfaUser();
    const { token } = await mailedLink(user.email, { mode: "cookie" });
    const { mfa_token } = (await (await verify({ token })).json()) as { mfa_token: string };
    const done = await mfaVerify({ mfa_token, code: await codeFor(user.secret) });
    expect(done.status).toBe(200);
    expect(done.headers.get("Set-Cookie")).toMatch(/^__Host-edgelock_session=/);
  });

  it("verifies an unverified address, dropping the unproven signup password and its pending links", async () => {
    const email = freshEmail("unverified");
    expect((await postJson("/auth/signup", { email, password: PASSWORD })).status).toBe(202);
    const [verification] = await outbox(email);
    await expectError(await postJson("/auth/login", { email, password: PASSWORD }), 403, "email_not_verified");
    const { token } = await mailedLink(email);
    const body = await tokens(await verify({ token }));
    expect(body.user.email_verified).toBe(true);
    const row = await userRow(email);
    expect(row?.email_verified_at).toEqual(expect.any(Number));
    // Whoever chose that password never proved the mailbox: it is no way in.
    expect(row?.password_hash).toBeNull();
    await expectError(await postJson("/auth/login", { email, password: PASSWORD }), 401, "invalid_credentials");
    if (!verification) throw new Error("no verification mail");
    const confirm = { token: verificationTokenFrom(verification), password: PASSWORD };
    await expectError(await postJson("/auth/verify-email", confirm), 400, "invalid_grant");
  });

  it("with MAGIC_LINK_SIGNUP=true, a sign-up link creates a verified account without a password", async () => {
    const signup = { MAGIC_LINK_SIGNUP: "true" };
    const email = freshEmail("newcomer");
    const { token } = await mailedLink(email, {}, signup);
    const body = await tokens(await verifyWithEnv(signup, { token }));
    expect(body.user).toMatchObject({ email, email_verified: true });
    const row = await userRow(email);
    expect(row).toMatchObject({ id: body.user.id, password_hash: null, email_verified_at: expect.any(Number) });
    expect(decodeJwt(body.access_token).amr).toEqual(["email"]);
    // A second link to the address now signs in to that account.
    const next = await mailedLink(email, {}, signup);
    expect(next.mail.subject).toBe("Your sign-in link");
    expect((await tokens(await verifyWithEnv(signup, { email, code: next.code }))).user.id).toBe(body.user.id);
  });

  it("creates no account from a sign-up link once MAGIC_LINK_SIGNUP is off", async () => {
    const email = freshEmail("late");
    const { token } = await mailedLink(email, {}, { MAGIC_LINK_SIGNUP: "true" });
    await expectError(await verify({ token }), 401, "invalid_credentials");
    expect(await userRow(email)).toBeNull();
  });

  it("asks for no CAPTCHA for the link (256 bits cannot be guessed), but does for the code", async () => {
    const calls: unknown[] = [];
    vi.stubGlobal("fetch", async (url: string) => {
      calls.push(url);
      return Response.json({ success: false });
    });
    try {
      const withCaptcha = { TURNSTILE_SECRET: "turnstile-secret", CAPTCHA_AFTER_FAILURES: "2" };
      const email = await signupAndVerify();
      for (let i = 0; i < 2; i++) {
        await sendWithEnv(withCaptcha, jsonRequest("/auth/login", { email, password: "a guess at the password" }));
      }
      const first = await mailedLink(email);
      await expectError(await verifyWithEnv(withCaptcha, { email, code: first.code }), 401, "captcha_required");
      expect(await linkRow(first.token)).toMatchObject({ used_at: null, attempts: 0 });
      expect((await verifyWithEnv(withCaptcha, { token: first.token })).status).toBe(200);
      expect(calls).toEqual([]);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("lets exactly one of several concurrent uses of one link succeed", async () => {
    const email = await signupAndVerify();
    const { token } = await mailedLink(email);
    const answers = await Promise.all(Array.from({ length: 6 }, () => verifyWithEnv(ROOMY_BUDGET, { token })));
    const statuses = answers.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status !== 200).every((status) => status === 400)).toBe(true);
    const sessions = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = ?",
    )
      .bind(email)
      .first("n");
    // signupAndVerify starts none: exactly the one login's.
    expect(sessions).toBe(1);
  });

  it("lets exactly one of several concurrent right codes succeed", async () => {
    const email = await signupAndVerify();
    const { code } = await mailedLink(email);
    const answers = await Promise.all(Array.from({ length: 4 }, () => verifyWithEnv(ROOMY_BUDGET, { email, code })));
    expect(answers.map((response) => response.status).filter((status) => status === 200)).toHaveLength(1);
  });

  it("is limited per IP (the login limit): 429 with Retry-After", async () => {
    const email = await signupAndVerify();
    const ip = randomIp();
    const tight = { RATE_LIMIT_LOGIN_PER_IP: "2" };
    const headers = { "CF-Connecting-IP": ip };
    for (let i = 0; i < 2; i++)
      await expectError(await verifyWithEnv(tight, { email, code: "000000" }, headers), 401, "invalid_credentials");
    const { token } = await mailedLink(email);
    const refused = await verifyWithEnv(tight, { token }, headers);
    await expectError(refused, 429, "too_many_requests");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await linkRow(token)).toMatchObject({ used_at: null, attempts: 0 });
  });

  it("refuses bad input with 4xx and the error shape, never 5xx, changing nothing", async () => {
    const email = await signupAndVerify();
    const { token, code } = await mailedLink(email);
    const before = await allLinkRows();
    const cases: [unknown, number, string][] = [
      [{}, 400, "invalid_request"],
      [{ token: "" }, 400, "invalid_request"],
      [{ token: 12 }, 400, "invalid_request"],
      [{ token: "x".repeat(600) }, 400, "invalid_request"],
      [{ token, email, code }, 400, "invalid_request"],
      [{ token, code }, 400, "invalid_request"],
      [{ email }, 400, "invalid_request"],
      [{ code }, 400, "invalid_request"],
      [{ email, code: "12345" }, 400, "invalid_request"],
      [{ email, code: "abcdef" }, 400, "invalid_request"],
      [{ email, code: "1234567" }, 400, "invalid_request"],
      [{ email, code: 123456 }, 400, "invalid_request"],
      [{ email: "nobody", code }, 400, "invalid_request"],
      [[token], 400, "invalid_request"],
      ["{", 400, "invalid_request"],
      [{ token: "not-a-real-token" }, 400, "invalid_grant"],
      [{ token: "A".repeat(43) }, 400, "invalid_grant"],
      [{ token: `${token.slice(0, 42)}\u0000` }, 400, "invalid_grant"],
    ];
    for (const [body, status, error] of cases) {
      const response = await verify(body);
      expect(response.status, JSON.stringify(body)).toBeLessThan(500);
      await expectError(response, status, error);
    }
    await expectError(
      await send(new Request(`${BASE}/auth/magic-link/verify`, { method: "POST", body: token })),
      415,
      "invalid_request",
    );
    expect(await allLinkRows()).toEqual(before);
    // Nothing counted against the account either: four wrong codes still leave the right one working.
    for (let i = 0; i < 4; i++)
      await expectError(await verify({ email, code: otherCode(code) }), 401, "invalid_credentials");
    expect((await verify({ email, code })).status).toBe(200);
  });

  it("answers 405 for other methods", async () => {
    const response = await send(new Request(`${BASE}/auth/magic-link/verify`, { method: "GET" }));
    await expectError(response, 405, "method_not_allowed");
    expect(response.headers.get("Allow")).toBe("POST");
  });
});

describe("a magic-link login and the rest of the account", () => {
  it("leaves a password account's password working", async () => {
    const email = await signupAndVerify();
    const { token } = await mailedLink(email);
    expect((await verify({ token })).status).toBe(200);
    expect((await postJson("/auth/login", { email, password: PASSWORD })).status).toBe(200);
  });

  it("answers a password-less account's password change with 4xx, never 5xx", async () => {
    const email = freshEmail("nopass");
    const { token } = await mailedLink(email, {}, { MAGIC_LINK_SIGNUP: "true" });
    const { access_token } = await tokens(await verifyWithEnv({ MAGIC_LINK_SIGNUP: "true" }, { token }));
    const change = await sendWithEnv(
      {},
      jsonRequest(
        "/auth/password",
        { current_password: "", new_password: "a brand new password 2026" },
        bearer(access_token),
      ),
    );
    expect(change.status).toBeGreaterThanOrEqual(400);
    expect(change.status).toBeLessThan(500);
  });
});
