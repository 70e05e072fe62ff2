// Garbage at every MFA endpoint: bad JSON, wrong shapes and types, fields too
// long, a body over the cap, another media type. Each is a 4xx in the one error
// shape {error, error_description}, never a 5xx, and changes nothing: no
// enrolment, no attempt counted against the mfa_token, no code spent.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BODY_LIMIT_BYTES } from "../../src/app/app";
import { BASE, bearer, expectError, newSession, PASSWORD, randomIp, send } from "../helpers";
import {
  beginEnrolment,
  codeFor,
  type Enrolment,
  firstStep,
  mfaLogin,
  mfaStatus,
  newMfaUser,
  pendingLoginRow,
  totpRow,
  verify,
} from "./support";

function raw(method: string, path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return send(
    new Request(`${BASE}${path}`, {
      method,
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": randomIp(), ...headers },
      body,
    }),
  );
}

/** Bodies no endpoint takes, with the status they must get. */
const GARBAGE: [string, string, number][] = [
  ["truncated JSON", '{"code": "123', 400],
  ["not JSON at all", "code=123456", 400],
  ["a JSON array", "[]", 400],
  ["JSON null", "null", 400],
  ["a JSON string", '"123456"', 400],
  ["a JSON number", "123456", 400],
  ["over the body cap", JSON.stringify({ code: "123456", padding: "x".repeat(BODY_LIMIT_BYTES) }), 413],
];

async function expectRefused(response: Response, status: number, error = "invalid_request"): Promise<void> {
  expect(response.status).toBeLessThan(500);
  const body = (await expectError(response, status, error)) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(["error", "error_description"]);
}

describe("garbage at POST /auth/mfa/totp", () => {
  it.each([
    ...GARBAGE,
    ["password not a string", JSON.stringify({ password: 12345 }), 400],
    ["password over 1024 characters", JSON.stringify({ password: "x".repeat(1025) }), 400],
  ])("%s → %i, and no enrolment", async (_, body, status) => {
    const session = await newSession();
    await expectRefused(await raw("POST", "/auth/mfa/totp", body as string, bearer(session.access_token)), status);
    expect(await totpRow(session.user.id)).toBeNull();
  });

  it("another media type → 415, and no enrolment", async () => {
    const session = await newSession();
    const response = await raw("POST", "/auth/mfa/totp", "password=x", {
      ...bearer(session.access_token),
      "Content-Type": "application/x-www-form-urlencoded",
    });
    await expectRefused(response, 415);
    expect(response.headers.get("Accept-Post")).toBe("application/json");
    expect(await totpRow(session.user.id)).toBeNull();
  });
});

describe("garbage at POST /auth/mfa/totp/confirm", () => {
  it.each([
    ...GARBAGE,
    ["no code", "{}", 400],
    ["code a number", JSON.stringify({ code: 123456 }), 400],
    ["code an array", JSON.stringify({ code: ["123456"] }), 400],
    ["code over 16 characters", JSON.stringify({ code: "1".repeat(17) }), 400],
  ])("%s → %i, and it stays off", async (_, body, status) => {
    const session = await newSession();
    const begun = await beginEnrolment(session.access_token);
    const { secret } = (await begun.json()) as Enrolment;
    const pending = await totpRow(session.user.id);
    const headers = bearer(session.access_token);
    await expectRefused(await raw("POST", "/auth/mfa/totp/confirm", body as string, headers), status);
    expect(await totpRow(session.user.id)).toEqual(pending);
    expect((await mfaStatus(session.access_token)).totp).toBe(false);
    // The enrolment is intact: its first code still confirms it.
    const ok = await raw("POST", "/auth/mfa/totp/confirm", JSON.stringify({ code: await codeFor(secret) }), headers);
    expect(ok.status).toBe(200);
  });
});

describe("garbage at DELETE /auth/mfa/totp", () => {
  it.each([
    ...GARBAGE,
    ["no password", JSON.stringify({ code: "123456" }), 400],
    ["password not a string", JSON.stringify({ password: true, code: "123456" }), 400],
    ["code a number", JSON.stringify({ password: PASSWORD, code: 123456 }), 400],
    ["recovery_code an object", JSON.stringify({ password: PASSWORD, recovery_code: {} }), 400],
    ["code and recovery_code both", JSON.stringify({ password: PASSWORD, code: "1", recovery_code: "2" }), 400],
    ["recovery_code over 64 characters", JSON.stringify({ password: PASSWORD, recovery_code: "A".repeat(65) }), 400],
    ["password over 1024 characters", JSON.stringify({ password: "x".repeat(1025), code: "123456" }), 400],
  ])("%s → %i, and it stays on", async (_, body, status) => {
    const user = await newMfaUser();
    const row = await totpRow(user.user.id);
    await expectRefused(await raw("DELETE", "/auth/mfa/totp", body as string, bearer(user.access_token)), status);
    expect(await totpRow(user.user.id)).toEqual(row);
    expect(await mfaStatus(user.access_token)).toEqual({ totp: true, recovery_codes_left: 10 });
  });
});

describe("garbage at POST /auth/mfa/recovery-codes", () => {
  it.each([
    ...GARBAGE,
    ["code a number", JSON.stringify({ code: 123456 }), 400],
    ["code and recovery_code both", JSON.stringify({ code: "123456", recovery_code: "AAAA" }), 400],
    ["code over 16 characters", JSON.stringify({ code: "1".repeat(17) }), 400],
    ["password not a string", JSON.stringify({ password: ["x"], code: "123456" }), 400],
  ])("%s → %i, and the set stays", async (_, body, status) => {
    const user = await newMfaUser();
    const headers = bearer(user.access_token);
    await expectRefused(await raw("POST", "/auth/mfa/recovery-codes", body as string, headers), status);
    expect(await mfaStatus(user.access_token)).toEqual({ totp: true, recovery_codes_left: 10 });
    const { results } = await env.DB.prepare("SELECT used_at FROM mfa_recovery_codes WHERE user_id = ?")
      .bind(user.user.id)
      .all();
    expect(results.every((r) => r.used_at === null)).toBe(true);
  });
});

describe("garbage at POST /auth/mfa/verify", () => {
  const withToken = (extra: Record<string, unknown>) => (token: string) =>
    JSON.stringify({ mfa_token: token, ...extra });
  const cases: [string, number, (token: string) => string][] = [
    ...GARBAGE.map(([name, body, status]): [string, number, () => string] => [name, status, () => body]),
    ["no mfa_token", 400, () => JSON.stringify({ code: "123456" })],
    ["mfa_token a number", 400, () => JSON.stringify({ mfa_token: 1, code: "123456" })],
    ["mfa_token over 128 characters", 400, () => JSON.stringify({ mfa_token: "A".repeat(129), code: "123456" })],
    ["code a number", 400, withToken({ code: 123456 })],
    ["code null", 400, withToken({ code: null })],
    ["recovery_code a number", 400, withToken({ recovery_code: 1 })],
    ["code and recovery_code both", 400, withToken({ code: "123456", recovery_code: "AAAA" })],
    ["code over 16 characters", 400, withToken({ code: "1".repeat(17) })],
    ["neither code nor recovery_code", 400, withToken({})],
  ];

  it.each(cases)("%s → %i; the mfa_token keeps all its tries", async (_, status, body) => {
    const user = await newMfaUser();
    const { mfa_token } = await firstStep(user.email);
    await expectRefused(await raw("POST", "/auth/mfa/verify", body(mfa_token)), status);
    expect(await pendingLoginRow(user.user.id)).toEqual([expect.objectContaining({ used_at: null, attempts: 0 })]);
    expect((await verify({ mfa_token, code: await codeFor(user.secret) })).status).toBe(200);
  });

  it("another media type → 415", async () => {
    const user = await newMfaUser();
    const { mfa_token } = await firstStep(user.email);
    const response = await raw("POST", "/auth/mfa/verify", `mfa_token=${mfa_token}&code=123456`, {
      "Content-Type": "application/x-www-form-urlencoded",
    });
    await expectRefused(response, 415);
    expect((await pendingLoginRow(user.user.id))[0]).toMatchObject({ attempts: 0, used_at: null });
  });

  it("a wrong-shaped code is a wrong code (401), counted like one", async () => {
    const user = await newMfaUser();
    const { mfa_token } = await firstStep(user.email);
    for (const code of ["", "12345", "abcdef", "１２３４５６", " 123456"]) {
      await expectRefused(await verify({ mfa_token, code }), 401, "invalid_credentials");
    }
    expect((await pendingLoginRow(user.user.id))[0]).toMatchObject({ attempts: 5 });
    // Five wrong codes ended it (and locked the account for a moment).
    await expectError(await verify({ mfa_token, code: await codeFor(user.secret) }), 400, "invalid_grant");
  });
});

describe("credentials at the MFA endpoints", () => {
  it.each([
    ["GET", "/auth/mfa"],
    ["POST", "/auth/mfa/totp"],
    ["POST", "/auth/mfa/totp/confirm"],
    ["DELETE", "/auth/mfa/totp"],
    ["POST", "/auth/mfa/recovery-codes"],
  ])("%s %s needs an access token: none, garbage, or an API key → 401", async (method, path) => {
    const body = method === "GET" ? undefined : JSON.stringify({ code: "123456", password: PASSWORD });
    const credentials: Record<string, string>[] = [
      {},
      { Authorization: "Bearer not-a-token" },
      { "X-API-Key": "elk_0000_abc" },
    ];
    for (const headers of credentials) {
      const response = await send(
        new Request(`${BASE}${path}`, { method, headers: { "Content-Type": "application/json", ...headers }, body }),
      );
      await expectError(response, 401, "invalid_token");
    }
  });

  it("an MFA login's tokens work at the MFA endpoints like any others", async () => {
    const user = await newMfaUser();
    const tokens = await mfaLogin(user);
    expect(await mfaStatus(tokens.access_token)).toEqual({ totp: true, recovery_codes_left: 10 });
  });
});
