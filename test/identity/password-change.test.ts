import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import {
  BASE,
  bearer,
  expectError,
  login,
  newSession,
  outbox,
  PASSWORD,
  postJson,
  send,
  type TokenResponse,
  userRow,
} from "../helpers";

const NEW_PASSWORD = "my new password is long";

function change(accessToken: string, current: string, next = NEW_PASSWORD): Promise<Response> {
  return postJson("/auth/password", { current_password: current, new_password: next }, bearer(accessToken));
}

function me(accessToken: string): Promise<Response> {
  return send(new Request(`${BASE}/auth/me`, { headers: bearer(accessToken) }));
}

describe("POST /auth/password", () => {
  it("changes the password, ends every other session and answers a fresh session", async () => {
    const session = await newSession();
    const other = await login(session.email);
    const response = await change(session.access_token, PASSWORD);
    expect(response.status).toBe(200);
    const fresh = (await response.json()) as TokenResponse;
    expect((await me(fresh.access_token)).status).toBe(200);
    expect((await postJson("/auth/refresh", { refresh_token: fresh.refresh_token })).status).toBe(200);
    for (const old of [session, other]) {
      await expectError(await me(old.access_token), 401, "invalid_token");
      await expectError(await postJson("/auth/refresh", { refresh_token: old.refresh_token }), 400, "invalid_grant");
    }
    await login(session.email, NEW_PASSWORD);
    await expectError(
      await postJson("/auth/login", { email: session.email, password: PASSWORD }),
      401,
      "invalid_credentials",
    );
    expect((await outbox(session.email)).map((m) => m.subject)).toContain("Your password was changed");
  });

  it("refuses a wrong current password with 403 and changes nothing", async () => {
    const session = await newSession();
    const before = await userRow(session.email);
    await expectError(await change(session.access_token, "not my password at all"), 403, "invalid_credentials");
    expect(await userRow(session.email)).toEqual(before);
    expect((await me(session.access_token)).status).toBe(200);
  });

  it("counts wrong current passwords against the login budget", async () => {
    const session = await newSession();
    for (let i = 0; i < 5; i++) await change(session.access_token, "not my password at all");
    await expectError(await change(session.access_token, PASSWORD), 429, "too_many_requests");
  });

  it("refuses a weak new password before checking anything", async () => {
    const session = await newSession();
    await expectError(await change(session.access_token, PASSWORD, "password123"), 400, "weak_password");
    await expectError(await change(session.access_token, PASSWORD, "lone \ud800 surrogate"), 400, "weak_password");
    await login(session.email);
  });

  it("needs a bearer token and a well-formed body", async () => {
    await expectError(
      await postJson("/auth/password", { current_password: PASSWORD, new_password: NEW_PASSWORD }),
      401,
      "invalid_token",
    );
    const session = await newSession();
    await expectError(
      await postJson("/auth/password", { current_password: PASSWORD }, bearer(session.access_token)),
      400,
      "invalid_request",
    );
  });

  it("is audited", async () => {
    const session = await newSession();
    await change(session.access_token, PASSWORD);
    await vi.waitFor(async () => {
      const row = await env.DB.prepare("SELECT event FROM audit_log WHERE user_id = ? AND event = 'password_changed'")
        .bind(session.user.id)
        .first("event");
      expect(row).toBe("password_changed");
    });
  });
});
