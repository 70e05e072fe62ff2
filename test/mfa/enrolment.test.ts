// Turning two-step login on: POST /auth/mfa/totp (a fresh login or the
// password), then POST /auth/mfa/totp/confirm with a first code. Nothing
// changes for the login until the confirm; the recovery codes are answered once.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
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
} from "../helpers";
import {
  advance,
  auditEvents,
  beginEnrolment,
  codeFor,
  confirm,
  type Enrolment,
  expectAudited,
  expectMail,
  freezeClock,
  mfaEnabledFlag,
  mfaStatus,
  newMfaUser,
  referenceHotp,
  totpRow,
  wrongCodeFor,
} from "./support";

const RECOVERY_CODE = /^[A-Z2-7]{4}(-[A-Z2-7]{4}){5}$/;

async function begin(session: TokenResponse): Promise<Enrolment> {
  const response = await beginEnrolment(session.access_token);
  expect(response.status).toBe(201);
  return response.json();
}

/** Off in every way a client could tell: the status, the flag, and a password-only login. */
async function expectStillOff(session: TokenResponse & { email: string }): Promise<void> {
  expect(await mfaStatus(session.access_token)).toEqual({ totp: false, recovery_codes_left: 0 });
  expect(await mfaEnabledFlag(session.user.id)).toBe(0);
  await login(session.email);
}

describe("the test's own TOTP", () => {
  it("matches RFC 6238 Appendix B (SHA-1) and RFC 4226 Appendix D", async () => {
    const seed = new Uint8Array(new TextEncoder().encode("12345678901234567890"));
    expect(await referenceHotp(seed, Math.floor(59 / 30), 8)).toBe("94287082");
    expect(await referenceHotp(seed, Math.floor(1111111109 / 30), 8)).toBe("07081804");
    expect(await referenceHotp(seed, Math.floor(20000000000 / 30), 8)).toBe("65353130");
    expect(await referenceHotp(seed, 0)).toBe("755224");
    expect(await referenceHotp(seed, 9)).toBe("520489");
  });
});

describe("POST /auth/mfa/totp", () => {
  it("answers a secret, its otpauth URI and a QR code, and changes nothing for the login yet", async () => {
    freezeClock();
    const session = await newSession();
    const response = await beginEnrolment(session.access_token);
    expect(response.status).toBe(201);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const body = (await response.json()) as Enrolment;
    expect(Object.keys(body).sort()).toEqual(["otpauth_uri", "qr_svg", "secret"]);
    // 160 bits, base32 without padding.
    expect(body.secret).toMatch(/^[A-Z2-7]{32}$/);

    const uri = new URL(body.otpauth_uri);
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.host).toBe("totp");
    expect(decodeURIComponent(uri.pathname)).toBe(`/auth.test:${session.email}`);
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      secret: body.secret,
      issuer: "auth.test",
      algorithm: "SHA1",
      digits: "6",
      period: "30",
    });
    expect(body.qr_svg).toMatch(/^<svg[\s>]/);
    expect(body.qr_svg).toContain("</svg>");

    // Pending, and sealed: the secret is not in D1 in any readable form.
    const row = await totpRow(session.user.id);
    expect(row).toMatchObject({ confirmed_at: null, last_step: null });
    expect(JSON.stringify(row)).not.toContain(body.secret);
    await expectStillOff(session);
    await expectAudited(session.user.id, "mfa_enrolment_started");
    // Nothing is mailed until it is on.
    expect((await outbox(session.email)).map((m) => m.subject)).not.toContain("Two-step login is on");
  });

  it("takes an empty body (no Content-Type) from a fresh login", async () => {
    const session = await newSession();
    const response = await send(
      new Request(`${BASE}/auth/mfa/totp`, { method: "POST", headers: bearer(session.access_token) }),
    );
    expect(response.status).toBe(201);
    expect(((await response.json()) as Enrolment).secret).toMatch(/^[A-Z2-7]{32}$/);
  });

  it("needs a login within 5 minutes, or the password: a stale session alone starts nothing", async () => {
    freezeClock();
    const session = await newSession();
    advance(6 * 60_000);
    const stale = await beginEnrolment(session.access_token);
    await expectError(stale, 401, "insufficient_user_authentication");
    expect(stale.headers.get("WWW-Authenticate")).toContain('max_age="300"');
    await expectError(
      await beginEnrolment(session.access_token, { password: "not my password at all" }),
      403,
      "invalid_credentials",
    );
    expect(await totpRow(session.user.id)).toBeNull();
    expect(await auditEvents(session.user.id, "mfa_enrolment_started")).toEqual([]);

    const response = await beginEnrolment(session.access_token, { password: PASSWORD });
    expect(response.status).toBe(201);
    expect(await totpRow(session.user.id)).toMatchObject({ confirmed_at: null });
  });

  it("counts a wrong step-up password against the login budget", async () => {
    freezeClock();
    const session = await newSession();
    advance(6 * 60_000);
    for (let i = 0; i < 5; i++) {
      await expectError(
        await beginEnrolment(session.access_token, { password: "not my password at all" }),
        403,
        "invalid_credentials",
      );
    }
    await expectError(await beginEnrolment(session.access_token, { password: PASSWORD }), 429, "too_many_requests");
    expect(await totpRow(session.user.id)).toBeNull();
  });

  it("a second start replaces a pending enrolment: only the newest secret confirms", async () => {
    freezeClock();
    const session = await newSession();
    const first = await begin(session);
    const second = await begin(session);
    expect(second.secret).not.toBe(first.secret);
    await expectError(await confirm(session.access_token, await codeFor(first.secret)), 400, "invalid_grant");
    await expectStillOff(session);
    expect((await confirm(session.access_token, await codeFor(second.secret))).status).toBe(200);
    expect((await mfaStatus(session.access_token)).totp).toBe(true);
  });

  it("is refused with 409 while an authenticator is on, which stays as it was", async () => {
    const user = await newMfaUser();
    const before = await totpRow(user.user.id);
    await expectError(await beginEnrolment(user.access_token), 409, "invalid_request");
    expect(await totpRow(user.user.id)).toEqual(before);
    expect(await mfaStatus(user.access_token)).toEqual({ totp: true, recovery_codes_left: 10 });
  });

  it("needs an access token", async () => {
    await expectError(await postJson("/auth/mfa/totp", {}), 401, "invalid_token");
    await expectError(await send(`${BASE}/auth/mfa`), 401, "invalid_token");
  });
});

describe("POST /auth/mfa/totp/confirm", () => {
  it("refuses a wrong code with 400 and leaves it off", async () => {
    freezeClock();
    const session = await newSession();
    const { secret } = await begin(session);
    const pending = await totpRow(session.user.id);
    const other = await begin(await newSession());
    for (const code of [
      await wrongCodeFor(secret),
      await codeFor(secret, -2),
      await codeFor(secret, 2),
      await codeFor(other.secret),
      "",
      "12345",
      "1234567",
      "abcdef",
    ]) {
      await expectError(await confirm(session.access_token, code), 400, "invalid_grant");
    }
    expect(await totpRow(session.user.id)).toEqual(pending);
    await expectStillOff(session);
    expect(await auditEvents(session.user.id, "mfa_enabled")).toEqual([]);
  });

  it("turns it on with a right code: the recovery codes once, a mail and an audit row", async () => {
    freezeClock();
    const session = await newSession();
    const { secret } = await begin(session);
    const response = await confirm(session.access_token, await codeFor(secret));
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const body = (await response.json()) as { recovery_codes: string[] };
    expect(Object.keys(body)).toEqual(["recovery_codes"]);
    expect(body.recovery_codes).toHaveLength(10);
    expect(new Set(body.recovery_codes).size).toBe(10);
    for (const code of body.recovery_codes) expect(code).toMatch(RECOVERY_CODE);

    expect(await mfaStatus(session.access_token)).toEqual({ totp: true, recovery_codes_left: 10 });
    expect(await mfaEnabledFlag(session.user.id)).toBe(1);
    expect(await totpRow(session.user.id)).toMatchObject({ pending_expires_at: null });
    expect((await totpRow(session.user.id))?.confirmed_at).toEqual(expect.any(Number));
    // Only hashes are kept.
    const { results } = await env.DB.prepare("SELECT code_hash FROM mfa_recovery_codes WHERE user_id = ?")
      .bind(session.user.id)
      .all<{ code_hash: string }>();
    expect(results).toHaveLength(10);
    const stored = JSON.stringify(results);
    for (const code of body.recovery_codes) expect(stored).not.toContain(code.replaceAll("-", ""));

    const [audited] = await expectAudited(session.user.id, "mfa_enabled");
    expect(JSON.parse(String(audited?.details))).toEqual({ method: "totp" });
    const mail = await expectMail(session.email, "Two-step login is on");
    expect(mail.text).toContain("turned on");

    // The password alone no longer logs in.
    const loginResponse = await postJson("/auth/login", { email: session.email, password: PASSWORD });
    expect(loginResponse.status).toBe(401);
    expect(((await loginResponse.json()) as { error: string }).error).toBe("mfa_required");

    // Confirming again hands out nothing: no second set, the first stays.
    await expectError(await confirm(session.access_token, await codeFor(secret, 1)), 400, "invalid_grant");
    expect(await mfaStatus(session.access_token)).toEqual({ totp: true, recovery_codes_left: 10 });
    expect(await auditEvents(session.user.id, "mfa_enabled")).toHaveLength(1);
  });

  it("accepts the code of the step before and after now, not further", async () => {
    freezeClock();
    for (const offset of [-1, 1]) {
      const session = await newSession();
      const { secret } = await begin(session);
      expect((await confirm(session.access_token, await codeFor(secret, offset))).status).toBe(200);
    }
  });

  it("refuses an enrolment older than 10 minutes, even with a right code", async () => {
    freezeClock();
    const session = await newSession();
    const { secret } = await begin(session);
    advance(10 * 60_000 + 1000);
    // The access token has expired meanwhile (10 minutes): a new login, still password-only.
    const fresh = { ...(await login(session.email)), email: session.email };
    await expectError(await confirm(fresh.access_token, await codeFor(secret)), 400, "invalid_grant");
    await expectStillOff(fresh);
  });

  it("refuses without an enrolment", async () => {
    const session = await newSession();
    await expectError(await confirm(session.access_token, "123456"), 400, "invalid_grant");
    expect(await totpRow(session.user.id)).toBeNull();
  });

  it("turns it on exactly once when the same code is confirmed 10 times at once", async () => {
    freezeClock();
    const session = await newSession();
    const { secret } = await begin(session);
    const code = await codeFor(secret);
    const answers = await Promise.all(Array.from({ length: 10 }, () => confirm(session.access_token, code)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(9);
    const winner = answers[statuses.indexOf(200)] as Response;
    const { recovery_codes } = (await winner.json()) as { recovery_codes: string[] };
    expect(await mfaStatus(session.access_token)).toEqual({ totp: true, recovery_codes_left: 10 });
    // The codes answered are the set kept (no second confirm replaced them).
    const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM mfa_recovery_codes WHERE user_id = ?")
      .bind(session.user.id)
      .first("n");
    expect(row).toBe(10);
    expect(recovery_codes).toHaveLength(10);
    expect(await expectAudited(session.user.id, "mfa_enabled")).toHaveLength(1);
  });
});
