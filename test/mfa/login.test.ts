// Logging in with two-step login on: the password answers 401 mfa_required with
// an mfa_token, and POST /auth/mfa/verify with a code completes the login. The
// token is spent exactly once, a code's step is accepted once, a few wrong codes
// end the attempt, and the session records how the user authenticated (amr).
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { BASE, bearer, expectError, PASSWORD, postJson, send, type TokenResponse } from "../helpers";
import {
  advance,
  codeFor,
  expectAudited,
  firstStep,
  freezeClock,
  mfaLogin,
  newMfaUser,
  nextStep,
  pendingLoginRow,
  verify,
  wrongCodeFor,
} from "./support";

function me(accessToken: string): Promise<Response> {
  return send(new Request(`${BASE}/auth/me`, { headers: bearer(accessToken) }));
}

async function sessionCount(userId: string): Promise<unknown> {
  return env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?").bind(userId).first("n");
}

describe("POST /auth/login with two-step login on", () => {
  it("answers 401 mfa_required with an mfa_token, and issues nothing", async () => {
    const user = await newMfaUser();
    const sessionsBefore = await sessionCount(user.user.id);
    const response = await postJson("/auth/login", { email: user.email, password: PASSWORD });
    expect(response.status).toBe(401);
    expect(response.headers.get("Set-Cookie")).toBeNull();
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["error", "error_description", "methods", "mfa_token"]);
    expect(body).toMatchObject({ error: "mfa_required", methods: ["totp", "recovery_code"] });
    expect(body.mfa_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await sessionCount(user.user.id)).toBe(sessionsBefore);
    // Stored only as a hash, for 5 minutes.
    const [row] = await pendingLoginRow(user.user.id);
    expect(row).toMatchObject({ used_at: null, attempts: 0, expires_at: Date.now() + 5 * 60_000 });
    expect(JSON.stringify(await env.DB.prepare("SELECT * FROM one_time_secrets").all())).not.toContain(
      String(body.mfa_token),
    );
  });

  it("answers a wrong password as for any account: no hint that it has two-step login", async () => {
    const user = await newMfaUser();
    const response = await postJson("/auth/login", { email: user.email, password: "not my password at all" });
    expect(await response.json()).toEqual({
      error: "invalid_credentials",
      error_description: "The email or password is incorrect.",
    });
    expect(response.status).toBe(401);
    expect(await pendingLoginRow(user.user.id)).toEqual([]);
  });
});

describe("POST /auth/mfa/verify", () => {
  it("completes the login with a right code: a token response whose tokens work", async () => {
    const user = await newMfaUser();
    const { mfa_token } = await firstStep(user.email);
    const response = await verify({ mfa_token, code: await codeFor(user.secret) });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const body = (await response.json()) as TokenResponse;
    expect(Object.keys(body).sort()).toEqual(["access_token", "expires_in", "refresh_token", "token_type", "user"]);
    expect(body).toMatchObject({ token_type: "Bearer", user: { id: user.user.id, email: user.email } });
    expect((await me(body.access_token)).status).toBe(200);
    expect((await postJson("/auth/refresh", { refresh_token: body.refresh_token })).status).toBe(200);
    expect((await pendingLoginRow(user.user.id))[0]?.used_at).toEqual(expect.any(Number));
  });

  it("records amr pwd + otp + mfa on the session and in its access tokens, through refreshes", async () => {
    const user = await newMfaUser();
    const tokens = await mfaLogin(user);
    const claims = decodeJwt(tokens.access_token);
    expect(claims.amr).toEqual(expect.arrayContaining(["pwd", "otp", "mfa"]));
    expect(claims.amr).toHaveLength(3);
    expect(claims.auth_time).toBe(Math.floor(Date.now() / 1000));
    const row = await env.DB.prepare("SELECT amr FROM sessions WHERE id = ?").bind(claims.sid).first("amr");
    expect(JSON.parse(String(row))).toEqual(expect.arrayContaining(["pwd", "otp", "mfa"]));
    const refreshed = await postJson("/auth/refresh", { refresh_token: tokens.refresh_token });
    expect(decodeJwt(((await refreshed.json()) as TokenResponse).access_token).amr).toEqual(claims.amr);
    // The session from before enrolment, password only, says so.
    expect(decodeJwt(user.access_token).amr).toEqual(["pwd"]);
  });

  it("starts a cookie session when the login asked for one (mode and remember_me kept)", async () => {
    const user = await newMfaUser();
    const { mfa_token } = await firstStep(user.email, { mode: "cookie", remember_me: true });
    const response = await verify({ mfa_token, code: await codeFor(user.secret) });
    expect(response.status).toBe(200);
    const cookie = response.headers.get("Set-Cookie") ?? "";
    expect(cookie).toMatch(/^__Host-edgelock_session=/);
    // Remember-me: the long lifetime (30 days), not the browser-session default.
    expect(cookie).toContain("Max-Age=2592000");
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["csrf_token", "user"]);
    const row = await env.DB.prepare("SELECT amr, remember_me FROM sessions WHERE user_id = ? AND remember_me = 1")
      .bind(user.user.id)
      .first<{ amr: string; remember_me: number }>();
    expect(JSON.parse(String(row?.amr))).toEqual(expect.arrayContaining(["pwd", "otp", "mfa"]));
  });

  it("spends the mfa_token exactly once", async () => {
    const user = await newMfaUser();
    const { mfa_token } = await firstStep(user.email);
    expect((await verify({ mfa_token, code: await codeFor(user.secret) })).status).toBe(200);
    const sessions = await sessionCount(user.user.id);
    // Another right code (a later step) does not revive it.
    await expectError(await verify({ mfa_token, code: await codeFor(user.secret, 1) }), 400, "invalid_grant");
    await expectError(await verify({ mfa_token, recovery_code: user.recoveryCodes[0] }), 400, "invalid_grant");
    expect(await sessionCount(user.user.id)).toBe(sessions);
    // Neither refusal spent a factor: the code of step +1 and the recovery code still work.
    expect((await mfaLogin(user, 1)).access_token).toBeTruthy();
    const { mfa_token: another } = await firstStep(user.email);
    expect((await verify({ mfa_token: another, recovery_code: user.recoveryCodes[0] })).status).toBe(200);
  });

  it("refuses a code already used by another login (replay), and the refusal counts", async () => {
    const user = await newMfaUser();
    const code = await codeFor(user.secret);
    await mfaLogin(user);
    const { mfa_token } = await firstStep(user.email);
    await expectError(await verify({ mfa_token, code }), 401, "invalid_credentials");
    expect((await pendingLoginRow(user.user.id)).at(-1)).toMatchObject({ used_at: null, attempts: 1 });
    const [audited] = await expectAudited(user.user.id, "mfa_failed");
    expect(JSON.parse(String(audited?.details))).toMatchObject({ reason: "wrong_totp" });
    // The token lives on: the next step's code completes it.
    expect((await verify({ mfa_token, code: await codeFor(user.secret, 1) })).status).toBe(200);
  });

  it("refuses the code of the confirm step: enrolment used it up", async () => {
    const user = await newMfaUser();
    const { mfa_token } = await firstStep(user.email);
    await expectError(await verify({ mfa_token, code: await codeFor(user.secret, -1) }), 401, "invalid_credentials");
  });

  it("refuses a code from an older step than the last one accepted, even though it is in the window", async () => {
    const user = await newMfaUser();
    await mfaLogin(user, 1);
    const { mfa_token } = await firstStep(user.email);
    await expectError(await verify({ mfa_token, code: await codeFor(user.secret, 0) }), 401, "invalid_credentials");
    // Once the clock passes the step used, codes work again.
    nextStep();
    nextStep();
    expect((await verify({ mfa_token, code: await codeFor(user.secret) })).status).toBe(200);
  });

  it("ends the attempt after 5 wrong codes: the right one then gets nowhere", async () => {
    const user = await newMfaUser();
    const { mfa_token } = await firstStep(user.email);
    const wrong = await wrongCodeFor(user.secret);
    for (let i = 0; i < 5; i++) {
      await expectError(await verify({ mfa_token, code: wrong }), 401, "invalid_credentials");
    }
    expect((await pendingLoginRow(user.user.id)).at(-1)).toMatchObject({ attempts: 5, used_at: expect.any(Number) });
    await expectError(await verify({ mfa_token, code: await codeFor(user.secret) }), 400, "invalid_grant");
    expect(await sessionCount(user.user.id)).toBe(1);
    // The code was not spent by the dead token: once the account lock has passed it logs in.
    advance(5_000);
    expect((await mfaLogin(user)).access_token).toBeTruthy();
  });

  it("keeps the attempt alive through 4 wrong codes", async () => {
    const user = await newMfaUser();
    const { mfa_token } = await firstStep(user.email);
    const wrong = await wrongCodeFor(user.secret);
    for (let i = 0; i < 4; i++) {
      await expectError(await verify({ mfa_token, code: wrong }), 401, "invalid_credentials");
    }
    expect((await verify({ mfa_token, code: await codeFor(user.secret) })).status).toBe(200);
  });

  it("counts wrong codes against the account: 5 across logins lock it, right code or not", async () => {
    const user = await newMfaUser();
    const wrong = await wrongCodeFor(user.secret);
    // Six logins waiting for their second step (the lock would refuse a password after the fifth failure).
    const pending = [];
    for (let i = 0; i < 6; i++) pending.push((await firstStep(user.email)).mfa_token);
    for (const mfa_token of pending.slice(0, 5)) {
      await expectError(await verify({ mfa_token, code: wrong }), 401, "invalid_credentials");
    }
    const mfa_token = pending[5] as string;
    await expectError(await verify({ mfa_token, code: await codeFor(user.secret) }), 429, "too_many_requests");
    // A refusal by the lock is no wrong code: the token and the code still work after it.
    expect((await pendingLoginRow(user.user.id)).at(-1)).toMatchObject({ attempts: 0, used_at: null });
    advance(5_000);
    expect((await verify({ mfa_token, code: await codeFor(user.secret) })).status).toBe(200);
  });

  it("refuses an mfa_token older than 5 minutes", async () => {
    const user = await newMfaUser();
    const { mfa_token } = await firstStep(user.email);
    advance(5 * 60_000 + 1000);
    await expectError(await verify({ mfa_token, code: await codeFor(user.secret) }), 400, "invalid_grant");
    expect(await sessionCount(user.user.id)).toBe(1);
    // The code was not used up by the refusal.
    expect((await mfaLogin(user)).access_token).toBeTruthy();
  });

  it("refuses an mfa_token from another device (User-Agent) without counting it", async () => {
    const user = await newMfaUser();
    const { mfa_token } = await firstStep(user.email, {}, { "User-Agent": "Browser A" });
    const code = await codeFor(user.secret);
    await expectError(await verify({ mfa_token, code }, { "User-Agent": "Browser B" }), 400, "invalid_grant");
    await expectError(await verify({ mfa_token, code }), 400, "invalid_grant");
    expect((await pendingLoginRow(user.user.id)).at(-1)).toMatchObject({ attempts: 0, used_at: null });
    expect((await verify({ mfa_token, code }, { "User-Agent": "Browser A" })).status).toBe(200);
  });

  it("refuses unknown and malformed mfa_tokens", async () => {
    const user = await newMfaUser();
    const code = await codeFor(user.secret);
    for (const mfa_token of ["", "x", "A".repeat(43), "A".repeat(128), `${"A".repeat(42)}!`]) {
      await expectError(await verify({ mfa_token, code }), 400, "invalid_grant");
    }
    expect((await mfaLogin(user)).access_token).toBeTruthy();
  });

  it("refuses when two-step login was turned off meanwhile (admin reset)", async () => {
    const user = await newMfaUser();
    const { mfa_token } = await firstStep(user.email);
    await env.DB.prepare("DELETE FROM mfa_totp WHERE user_id = ?").bind(user.user.id).run();
    await env.DB.prepare("UPDATE users SET mfa_enabled = 0 WHERE id = ?").bind(user.user.id).run();
    await expectError(await verify({ mfa_token, code: await codeFor(user.secret) }), 400, "invalid_grant");
    expect(await sessionCount(user.user.id)).toBe(1);
  });

  it("refuses a disabled account's pending login", async () => {
    const user = await newMfaUser();
    const { mfa_token } = await firstStep(user.email);
    await env.DB.prepare("UPDATE users SET disabled_at = ? WHERE id = ?").bind(Date.now(), user.user.id).run();
    await expectError(await verify({ mfa_token, code: await codeFor(user.secret) }), 400, "invalid_grant");
    expect(await sessionCount(user.user.id)).toBe(1);
  });

  it("gives exactly one session to 10 concurrent verifies of one mfa_token with one right code", async () => {
    const user = await newMfaUser();
    const { mfa_token } = await firstStep(user.email);
    const code = await codeFor(user.secret);
    const sessions = await sessionCount(user.user.id);
    const answers = await Promise.all(Array.from({ length: 10 }, () => verify({ mfa_token, code })));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    // The others: the step already claimed (401), the token already spent (400), or the budget's pending reservations (429).
    for (const status of statuses) expect([200, 400, 401, 429]).toContain(status);
    expect(await sessionCount(user.user.id)).toBe(Number(sessions) + 1);
  });

  it("gives exactly one session to 10 concurrent logins presenting the same right code", async () => {
    const user = await newMfaUser();
    const tokens = [];
    for (let i = 0; i < 10; i++) tokens.push(await firstStep(user.email));
    const code = await codeFor(user.secret);
    const sessions = await sessionCount(user.user.id);
    const answers = await Promise.all(tokens.map(({ mfa_token }) => verify({ mfa_token, code })));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    // The others: the step already claimed (401), the token already spent (400), or the budget's pending reservations (429).
    for (const status of statuses) expect([200, 400, 401, 429]).toContain(status);
    expect(await sessionCount(user.user.id)).toBe(Number(sessions) + 1);
  });
});

describe("the clock", () => {
  it("is the test's: a frozen step makes the same code valid on the server, then not", async () => {
    freezeClock();
    const user = await newMfaUser();
    const code = await codeFor(user.secret);
    // Three steps later the code is out of the window.
    advance(3 * 30_000);
    const { mfa_token } = await firstStep(user.email);
    await expectError(await verify({ mfa_token, code }), 401, "invalid_credentials");
  });
});
