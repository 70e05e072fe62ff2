// How a user authenticated travels with their session: `amr` (RFC 8176) and
// `auth_time` are stored on the session row and carried in every access token
// the session issues, through refreshes and cookie sessions alike. And an
// account without a password (passkey- or magic-link-only) cannot be logged
// in to with one, yet can set one through a password reset.
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import {
  BASE,
  expectError,
  freshEmail,
  jsonRequest,
  login,
  outbox,
  PASSWORD,
  postJson,
  send,
  sendWithEnv,
  signupAndVerify,
  type TokenResponse,
  userRow,
} from "../helpers";

const ORIGIN = BASE;

async function sessionRow(id: string): Promise<{ amr: string; auth_time: number; created_at: number } | null> {
  return env.DB.prepare("SELECT amr, auth_time, created_at FROM sessions WHERE id = ?").bind(id).first();
}

describe("amr and auth_time", () => {
  it("are recorded on the refresh family and carried by its access tokens", async () => {
    const before = Math.floor(Date.now() / 1000);
    const session = await login(await signupAndVerify());
    const claims = decodeJwt(session.access_token);
    expect(claims.amr).toEqual(["pwd"]);
    expect(claims.auth_time).toBeGreaterThanOrEqual(before);
    expect(claims.auth_time).toBeLessThanOrEqual(claims.iat as number);
    const row = await sessionRow(String(claims.sid));
    expect(JSON.parse(String(row?.amr))).toEqual(["pwd"]);
    expect(Math.floor(Number(row?.auth_time) / 1000)).toBe(claims.auth_time);
  });

  it("keep the login's time through refreshes: a refresh is not a new authentication", async () => {
    const session = await login(await signupAndVerify());
    const first = decodeJwt(session.access_token);
    await env.DB.prepare("UPDATE sessions SET auth_time = auth_time - 3600000 WHERE id = ?").bind(first.sid).run();
    const response = await postJson("/auth/refresh", { refresh_token: session.refresh_token });
    expect(response.status).toBe(200);
    const refreshed = decodeJwt(((await response.json()) as TokenResponse).access_token);
    expect(refreshed.amr).toEqual(["pwd"]);
    expect(refreshed.auth_time).toBe((first.auth_time as number) - 3600);
  });

  it("are carried by the access token a cookie session mints", async () => {
    const email = await signupAndVerify();
    const loginResponse = await postJson("/auth/login", { email, password: PASSWORD, mode: "cookie" });
    const cookie = /^(__Host-edgelock_session=[^;]+)/.exec(loginResponse.headers.get("Set-Cookie") ?? "")?.[1] ?? "";
    const { csrf_token } = (await loginResponse.json()) as { csrf_token: string };
    const response = await send(
      new Request(`${BASE}/auth/session/token`, {
        method: "POST",
        headers: { Cookie: cookie, Origin: ORIGIN, "X-CSRF-Token": csrf_token },
      }),
    );
    expect(response.status).toBe(200);
    const claims = decodeJwt(((await response.json()) as { access_token: string }).access_token);
    expect(claims.amr).toEqual(["pwd"]);
    expect(typeof claims.auth_time).toBe("number");
  });
});

describe("an account without a password", () => {
  async function passwordless(): Promise<string> {
    const email = await signupAndVerify();
    await env.DB.prepare("UPDATE users SET password_hash = NULL WHERE email = ?").bind(email).run();
    return email;
  }

  it("cannot be logged in to with any password, and says so as for a wrong one", async () => {
    const email = await passwordless();
    const response = await postJson("/auth/login", { email, password: PASSWORD });
    const body = await expectError(response, 401, "invalid_credentials");
    expect(body.error_description).toBe("The email or password is incorrect.");
    const audited = await env.DB.prepare(
      "SELECT details FROM audit_log WHERE event = 'login_failed' AND user_id = (SELECT id FROM users WHERE email = ?)",
    )
      .bind(email)
      .first<{ details: string }>();
    expect(JSON.parse(String(audited?.details))).toEqual({ reason: "no_password" });
  });

  it("gets a password through a reset, and can log in with it", async () => {
    const email = await passwordless();
    // The link is created and mailed after the response: sendWithEnv waits for that work.
    expect((await sendWithEnv({}, jsonRequest("/auth/password-reset", { email }))).status).toBe(202);
    const mail = (await outbox(email)).find((m) => m.subject === "Reset your password");
    const token = /token=([A-Za-z0-9_-]+)/.exec(mail?.text ?? "")?.[1];
    const newPassword = "a brand new passphrase";
    expect((await postJson("/auth/password-reset/confirm", { token, password: newPassword })).status).toBe(200);
    expect(String((await userRow(email))?.password_hash)).toMatch(/^pbkdf2-sha256\$/);
    await login(email, newPassword);
  });

  it("signs up as before: new accounts have a password", async () => {
    const email = freshEmail();
    expect((await postJson("/auth/signup", { email, password: PASSWORD })).status).toBe(202);
    expect(String((await userRow(email))?.password_hash)).toMatch(/^pbkdf2-sha256\$/);
  });
});
