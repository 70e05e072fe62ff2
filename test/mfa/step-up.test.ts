// Step-up: with two-step login on, a sensitive action also needs a current code
// (or a recovery code) in its body — changing or resetting the password,
// minting an API key, turning two-step login off. Without one: 401
// mfa_required; a wrong one: 403 invalid_credentials (wrong_second_factor);
// either way nothing changes.
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import {
  BASE,
  bearer,
  expectError,
  grantRole,
  jsonRequest,
  login,
  newAdmin,
  outbox,
  PASSWORD,
  postJson,
  send,
  sendWithEnv,
  type TokenResponse,
  userRow,
} from "../helpers";
import {
  advance,
  beginEnrolment,
  codeFor,
  confirm,
  type Enrolment,
  expectAudited,
  expectMail,
  firstStep,
  type MfaUser,
  mfaEnabledFlag,
  mfaLogin,
  mfaStatus,
  newMfaUser,
  totpRow,
  verify,
  wrongCodeFor,
} from "./support";

const NEW_PASSWORD = "my new password is long";

function changePassword(user: MfaUser, extra: Record<string, unknown> = {}): Promise<Response> {
  const body = { current_password: PASSWORD, new_password: NEW_PASSWORD, ...extra };
  return postJson("/auth/password", body, bearer(user.access_token));
}

function disable(accessToken: string, body: unknown): Promise<Response> {
  return send(
    new Request(`${BASE}/auth/mfa/totp`, {
      method: "DELETE",
      headers: { "Content-Type": "application/json", ...bearer(accessToken) },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
}

function createKey(accessToken: string, extra: Record<string, unknown> = {}): Promise<Response> {
  return postJson("/auth/api-keys", { name: "ci", scopes: ["users:read"], ...extra }, bearer(accessToken));
}

async function apiKeyCount(userId: string): Promise<unknown> {
  return env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE user_id = ?").bind(userId).first("n");
}

/** Still on in every way a client could tell. */
async function expectStillOn(user: MfaUser): Promise<void> {
  expect((await mfaStatus(user.access_token)).totp).toBe(true);
  expect(await mfaEnabledFlag(user.user.id)).toBe(1);
  await firstStep(user.email);
}

describe("POST /auth/password with two-step login on", () => {
  it("needs a code: without one 401 mfa_required, a wrong one 403, and the password stays", async () => {
    const user = await newMfaUser();
    const before = await userRow(user.email);
    await expectError(await changePassword(user), 401, "mfa_required");
    await expectError(
      await changePassword(user, { code: await wrongCodeFor(user.secret) }),
      403,
      "invalid_credentials",
    );
    await expectError(
      await changePassword(user, { recovery_code: "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA" }),
      403,
      "invalid_credentials",
    );
    expect(await userRow(user.email)).toEqual(before);
    // The old password still logs in (to the second step), the session lives on.
    await firstStep(user.email);
    expect((await send(new Request(`${BASE}/auth/me`, { headers: bearer(user.access_token) }))).status).toBe(200);
    await expectAudited(user.user.id, "mfa_failed");
  });

  it("changes it with a right code; the new session's amr says so; MFA stays on", async () => {
    const user = await newMfaUser();
    const response = await changePassword(user, { code: await codeFor(user.secret) });
    expect(response.status).toBe(200);
    const fresh = (await response.json()) as TokenResponse;
    expect(decodeJwt(fresh.access_token).amr).toEqual(expect.arrayContaining(["pwd", "otp", "mfa"]));
    await expectError(
      await postJson("/auth/login", { email: user.email, password: PASSWORD }),
      401,
      "invalid_credentials",
    );
    const next = await postJson("/auth/login", { email: user.email, password: NEW_PASSWORD });
    expect(((await next.json()) as { error: string }).error).toBe("mfa_required");
    expect((await mfaStatus(fresh.access_token)).totp).toBe(true);
  });

  it("changes it with a recovery code, which is then spent", async () => {
    const user = await newMfaUser();
    const response = await changePassword(user, { recovery_code: user.recoveryCodes[0] });
    expect(response.status).toBe(200);
    const fresh = (await response.json()) as TokenResponse;
    expect((await mfaStatus(fresh.access_token)).recovery_codes_left).toBe(9);
  });
});

describe("POST /auth/password-reset/confirm with two-step login on", () => {
  async function requestReset(email: string): Promise<string> {
    const response = await sendWithEnv({}, jsonRequest("/auth/password-reset", { email }));
    expect(response.status).toBe(202);
    const mail = (await outbox(email)).find((m) => m.subject === "Reset your password");
    const token = /\/auth\/password-reset\?token=([A-Za-z0-9_-]+)/.exec(mail?.text ?? "")?.[1];
    if (!token) throw new Error("no reset link");
    return token;
  }

  function resetConfirm(token: string, extra: Record<string, unknown> = {}): Promise<Response> {
    return postJson("/auth/password-reset/confirm", { token, password: NEW_PASSWORD, ...extra });
  }

  it("needs a code; a missing or wrong one spends neither the link nor the password", async () => {
    const user = await newMfaUser();
    const token = await requestReset(user.email);
    const before = await userRow(user.email);
    await expectError(await resetConfirm(token), 401, "mfa_required");
    await expectError(await resetConfirm(token, { code: await wrongCodeFor(user.secret) }), 403, "invalid_credentials");
    expect(await userRow(user.email)).toEqual(before);
    const response = await resetConfirm(token, { code: await codeFor(user.secret) });
    expect(response.status).toBe(200);
    const next = await postJson("/auth/login", { email: user.email, password: NEW_PASSWORD });
    expect(((await next.json()) as { error: string }).error).toBe("mfa_required");
    expect(await mfaEnabledFlag(user.user.id)).toBe(1);
  });
});

describe("POST /auth/api-keys with two-step login on", () => {
  async function mfaAdmin(): Promise<MfaUser> {
    const user = await newMfaUser();
    await grantRole(user.user.id, "admin");
    // A fresh login, for the new role in its token (and a recent auth_time).
    return { ...user, ...(await mfaLogin(user)) };
  }

  it("needs a code even right after a login: without one 401, a wrong one 403, no key", async () => {
    const admin = await mfaAdmin();
    await expectError(await createKey(admin.access_token), 401, "mfa_required");
    await expectError(
      await createKey(admin.access_token, { code: await wrongCodeFor(admin.secret) }),
      403,
      "invalid_credentials",
    );
    expect(await apiKeyCount(admin.user.id)).toBe(0);
    expect((await outbox(admin.email)).map((m) => m.subject)).not.toContain(
      "A new API key was created for your account",
    );
  });

  it("mints with a right code (or a recovery code)", async () => {
    const admin = await mfaAdmin();
    const response = await createKey(admin.access_token, { code: await codeFor(admin.secret, 1) });
    expect(response.status).toBe(201);
    expect(((await response.json()) as { key: string }).key).toMatch(/^elk_/);
    expect((await createKey(admin.access_token, { recovery_code: admin.recoveryCodes[0] })).status).toBe(201);
    expect(await apiKeyCount(admin.user.id)).toBe(2);
  });

  it("needs the password as well when the login is older than 5 minutes", async () => {
    const admin = await mfaAdmin();
    advance(6 * 60_000);
    const code = await codeFor(admin.secret);
    await expectError(await createKey(admin.access_token, { code }), 401, "insufficient_user_authentication");
    expect(await apiKeyCount(admin.user.id)).toBe(0);
    expect((await createKey(admin.access_token, { code, password: PASSWORD })).status).toBe(201);
  });

  it("needs no code from a user without two-step login", async () => {
    const admin = await newAdmin();
    expect((await createKey(admin.access_token)).status).toBe(201);
  });
});

describe("DELETE /auth/mfa/totp", () => {
  it("refuses without a second factor, a wrong one, or a wrong password; it stays on", async () => {
    const user = await newMfaUser();
    const row = await totpRow(user.user.id);
    await expectError(await disable(user.access_token, { password: PASSWORD }), 401, "mfa_required");
    await expectError(
      await disable(user.access_token, { password: PASSWORD, code: await wrongCodeFor(user.secret) }),
      403,
      "invalid_credentials",
    );
    await expectError(
      await disable(user.access_token, { password: "not my password at all", code: await codeFor(user.secret) }),
      403,
      "invalid_credentials",
    );
    await expectError(await disable(user.access_token, { code: await codeFor(user.secret) }), 400, "invalid_request");
    expect(await totpRow(user.user.id)).toEqual(row);
    expect((await mfaStatus(user.access_token)).recovery_codes_left).toBe(10);
    await expectStillOn(user);
    // The code offered beside the wrong password was not spent.
    expect((await mfaLogin(user)).access_token).toBeTruthy();
  });

  it("turns it off with the password and a code: the password alone logs in again, a mail, an audit row", async () => {
    const user = await newMfaUser();
    const response = await disable(user.access_token, { password: PASSWORD, code: await codeFor(user.secret) });
    expect(response.status).toBe(204);
    expect(await mfaStatus(user.access_token)).toEqual({ totp: false, recovery_codes_left: 0 });
    expect(await mfaEnabledFlag(user.user.id)).toBe(0);
    expect(await totpRow(user.user.id)).toBeNull();
    const codes = await env.DB.prepare("SELECT COUNT(*) AS n FROM mfa_recovery_codes WHERE user_id = ?")
      .bind(user.user.id)
      .first("n");
    expect(codes).toBe(0);
    await login(user.email);
    const mail = await expectMail(user.email, "Two-step login is off");
    expect(mail.text).toContain("turned off");
    await expectAudited(user.user.id, "mfa_disabled");
    // And a second time: nothing to turn off.
    await expectError(await disable(user.access_token, { password: PASSWORD, code: "123456" }), 404, "not_found");
  });

  it("turns it off with a recovery code; a new authenticator can then be enrolled", async () => {
    const user = await newMfaUser();
    const off = await disable(user.access_token, { password: PASSWORD, recovery_code: user.recoveryCodes[0] });
    expect(off.status).toBe(204);
    const begun = await beginEnrolment(user.access_token, { password: PASSWORD });
    expect(begun.status).toBe(201);
    const { secret } = (await begun.json()) as Enrolment;
    expect(secret).not.toBe(user.secret);
    expect((await confirm(user.access_token, await codeFor(secret))).status).toBe(200);
    expect(await mfaStatus(user.access_token)).toEqual({ totp: true, recovery_codes_left: 10 });
    // The old authenticator is gone for good.
    const { mfa_token } = await firstStep(user.email);
    await expectError(await verify({ mfa_token, code: await codeFor(user.secret, 1) }), 401, "invalid_credentials");
  });
});

describe("the account's failure budget at step-up", () => {
  // A stolen access token plus the password must not become unlimited code
  // guesses: each wrong code counts, though the password beside it was right
  // (a right password alone must not reset the budget, as at login).
  const paths: [string, (user: MfaUser, code: string) => Promise<Response>][] = [
    ["POST /auth/password", (user, code) => changePassword(user, { code })],
    ["DELETE /auth/mfa/totp", (user, code) => disable(user.access_token, { password: PASSWORD, code })],
    [
      "POST /auth/mfa/recovery-codes (stale login + password)",
      (user, code) => postJson("/auth/mfa/recovery-codes", { password: PASSWORD, code }, bearer(user.access_token)),
    ],
    [
      "POST /auth/api-keys (stale login + password)",
      (user, code) => createKey(user.access_token, { password: PASSWORD, code }),
    ],
  ];

  it.each(paths)("%s: 5 wrong codes beside the right password lock the account", async (_, attempt) => {
    const user = await newMfaUser();
    await grantRole(user.user.id, "admin");
    const admin = { ...user, ...(await mfaLogin(user)) };
    const before = await userRow(admin.email);
    advance(6 * 60_000);
    const wrong = await wrongCodeFor(admin.secret);
    for (let i = 0; i < 5; i++) await expectError(await attempt(admin, wrong), 403, "invalid_credentials");
    await expectError(await attempt(admin, await codeFor(admin.secret)), 429, "too_many_requests");
    await expectError(
      await postJson("/auth/login", { email: admin.email, password: PASSWORD }),
      429,
      "too_many_requests",
    );
    // Nothing changed meanwhile.
    expect((await userRow(admin.email))?.password_hash).toBe(before?.password_hash);
    expect(await mfaStatus(admin.access_token)).toEqual({ totp: true, recovery_codes_left: 10 });
    expect(await apiKeyCount(admin.user.id)).toBe(0);
  });
});
