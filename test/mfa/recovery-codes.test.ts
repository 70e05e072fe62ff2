// Recovery codes: ten single-use codes for a lost authenticator. Each logs in
// once (and mails the owner); POST /auth/mfa/recovery-codes replaces the set.
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { bearer, expectError, newSession, PASSWORD, postJson, type TokenResponse } from "../helpers";
import {
  advance,
  codeFor,
  expectAudited,
  expectMail,
  firstStep,
  mfaLogin,
  mfaStatus,
  newMfaUser,
  verify,
  wrongCodeFor,
} from "./support";

async function loginWithRecoveryCode(email: string, recovery_code: string): Promise<Response> {
  const { mfa_token } = await firstStep(email);
  return verify({ mfa_token, recovery_code });
}

function regenerate(accessToken: string, body: Record<string, unknown>): Promise<Response> {
  return postJson("/auth/mfa/recovery-codes", body, bearer(accessToken));
}

describe("logging in with a recovery code", () => {
  it("works once: amr pwd + mfa (no otp), one fewer left, a mail and an audit row", async () => {
    const user = await newMfaUser();
    const [code] = user.recoveryCodes as [string];
    const response = await loginWithRecoveryCode(user.email, code);
    expect(response.status).toBe(200);
    const tokens = (await response.json()) as TokenResponse;
    const amr = decodeJwt(tokens.access_token).amr as string[];
    expect([...amr].sort()).toEqual(["mfa", "pwd"]);
    expect(await mfaStatus(user.access_token)).toEqual({ totp: true, recovery_codes_left: 9 });

    const mail = await expectMail(user.email, "A recovery code was used");
    expect(mail.text).toContain("9 unused codes are left");
    const [audited] = await expectAudited(user.user.id, "mfa_recovery_code_used");
    expect(JSON.parse(String(audited?.details))).toEqual({ remaining: 9 });

    // The same code again: refused, and nothing more is spent.
    await expectError(await loginWithRecoveryCode(user.email, code), 401, "invalid_credentials");
    expect(await mfaStatus(user.access_token)).toEqual({ totp: true, recovery_codes_left: 9 });
  });

  it("ignores case, spaces and dashes", async () => {
    const user = await newMfaUser();
    const [a, b] = user.recoveryCodes as [string, string];
    expect((await loginWithRecoveryCode(user.email, a.toLowerCase())).status).toBe(200);
    expect((await loginWithRecoveryCode(user.email, ` ${b.replaceAll("-", " ")} `)).status).toBe(200);
    expect((await mfaStatus(user.access_token)).recovery_codes_left).toBe(8);
  });

  it("refuses another user's code, a made-up one and a malformed one, spending nothing", async () => {
    const user = await newMfaUser();
    const other = await newMfaUser();
    for (const code of [other.recoveryCodes[0] as string, "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA", "nope", ""]) {
      await expectError(await loginWithRecoveryCode(user.email, code), 401, "invalid_credentials");
    }
    expect((await mfaStatus(user.access_token)).recovery_codes_left).toBe(10);
    expect((await mfaStatus(other.access_token)).recovery_codes_left).toBe(10);
  });

  it("gives exactly one session to 10 concurrent logins with the same code", async () => {
    const user = await newMfaUser();
    const tokens = [];
    for (let i = 0; i < 10; i++) tokens.push((await firstStep(user.email)).mfa_token);
    const code = user.recoveryCodes[0] as string;
    const answers = await Promise.all(tokens.map((mfa_token) => verify({ mfa_token, recovery_code: code })));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    for (const status of statuses) expect([200, 401, 429]).toContain(status);
    expect((await mfaStatus(user.access_token)).recovery_codes_left).toBe(9);
  });

  it("can use up every code; the authenticator still works after", async () => {
    const user = await newMfaUser();
    for (const code of user.recoveryCodes) {
      expect((await loginWithRecoveryCode(user.email, code)).status).toBe(200);
    }
    expect(await mfaStatus(user.access_token)).toEqual({ totp: true, recovery_codes_left: 0 });
    expect((await mfaLogin(user)).access_token).toBeTruthy();
  });
});

describe("POST /auth/mfa/recovery-codes", () => {
  it("replaces the set: the old codes die, the new ones work", async () => {
    const user = await newMfaUser();
    // One old code used first: the new set is a full ten regardless.
    expect((await loginWithRecoveryCode(user.email, user.recoveryCodes[0] as string)).status).toBe(200);
    const response = await regenerate(user.access_token, { code: await codeFor(user.secret) });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const { recovery_codes } = (await response.json()) as { recovery_codes: string[] };
    expect(recovery_codes).toHaveLength(10);
    expect(recovery_codes.filter((c) => user.recoveryCodes.includes(c))).toEqual([]);
    expect(await mfaStatus(user.access_token)).toEqual({ totp: true, recovery_codes_left: 10 });
    await expectAudited(user.user.id, "mfa_recovery_codes_regenerated");

    await expectError(
      await loginWithRecoveryCode(user.email, user.recoveryCodes[1] as string),
      401,
      "invalid_credentials",
    );
    expect((await loginWithRecoveryCode(user.email, recovery_codes[0] as string)).status).toBe(200);
    expect((await mfaStatus(user.access_token)).recovery_codes_left).toBe(9);
  });

  it("takes a recovery code as the proof: it is spent, and the new set replaces the rest", async () => {
    const user = await newMfaUser();
    const response = await regenerate(user.access_token, { recovery_code: user.recoveryCodes[0] });
    expect(response.status).toBe(200);
    const { recovery_codes } = (await response.json()) as { recovery_codes: string[] };
    expect(await mfaStatus(user.access_token)).toEqual({ totp: true, recovery_codes_left: 10 });
    await expectError(
      await regenerate(user.access_token, { recovery_code: user.recoveryCodes[0] }),
      403,
      "invalid_credentials",
    );
    expect(recovery_codes).toHaveLength(10);
  });

  it("needs a second factor: without one 401 mfa_required, a wrong one 403; the old set stays", async () => {
    const user = await newMfaUser();
    await expectError(await regenerate(user.access_token, {}), 401, "mfa_required");
    await expectError(await regenerate(user.access_token, { password: PASSWORD }), 401, "mfa_required");
    await expectError(
      await regenerate(user.access_token, { code: await wrongCodeFor(user.secret) }),
      403,
      "invalid_credentials",
    );
    await expectError(
      await regenerate(user.access_token, { recovery_code: "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA" }),
      403,
      "invalid_credentials",
    );
    expect(await mfaStatus(user.access_token)).toEqual({ totp: true, recovery_codes_left: 10 });
    expect((await loginWithRecoveryCode(user.email, user.recoveryCodes[0] as string)).status).toBe(200);
  });

  it("needs a login within 5 minutes or the password, as well as the code", async () => {
    const user = await newMfaUser();
    advance(6 * 60_000);
    const code = await codeFor(user.secret);
    await expectError(await regenerate(user.access_token, { code }), 401, "insufficient_user_authentication");
    await expectError(
      await regenerate(user.access_token, { code, password: "not my password at all" }),
      403,
      "invalid_credentials",
    );
    expect((await mfaStatus(user.access_token)).recovery_codes_left).toBe(10);
    // Neither refusal reached the code: it still works.
    expect((await regenerate(user.access_token, { code, password: PASSWORD })).status).toBe(200);
  });

  it("answers 404 while two-step login is off", async () => {
    const plain = await newSession();
    await expectError(await regenerate(plain.access_token, { code: "123456" }), 404, "not_found");
    expect(await mfaStatus(plain.access_token)).toEqual({ totp: false, recovery_codes_left: 0 });
  });
});
