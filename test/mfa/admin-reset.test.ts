// POST /admin/users/{id}/mfa/reset: an admin turns off the two-step login of a
// user who lost their authenticator (users:write); the user is mailed.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, bearer, expectError, grantRole, login, newAdmin, newSession, send } from "../helpers";
import {
  auditEvents,
  beginEnrolment,
  codeFor,
  expectAudited,
  expectMail,
  firstStep,
  mfaEnabledFlag,
  mfaStatus,
  newMfaUser,
  totpRow,
  verify,
} from "./support";

function reset(userId: string, headers: Record<string, string> = {}): Promise<Response> {
  return send(new Request(`${BASE}/admin/users/${encodeURIComponent(userId)}/mfa/reset`, { method: "POST", headers }));
}

describe("POST /admin/users/{id}/mfa/reset", () => {
  it("turns it off: the password alone logs in, the user is mailed, the admin is audited", async () => {
    const admin = await newAdmin();
    const user = await newMfaUser();
    // A login that was waiting for its second step dies with it.
    const { mfa_token } = await firstStep(user.email);
    const response = await reset(user.user.id, bearer(admin.access_token));
    expect(response.status).toBe(204);
    expect(await mfaStatus(user.access_token)).toEqual({ totp: false, recovery_codes_left: 0 });
    expect(await mfaEnabledFlag(user.user.id)).toBe(0);
    expect(await totpRow(user.user.id)).toBeNull();
    const codes = await env.DB.prepare("SELECT COUNT(*) AS n FROM mfa_recovery_codes WHERE user_id = ?")
      .bind(user.user.id)
      .first("n");
    expect(codes).toBe(0);
    await expectError(await verify({ mfa_token, code: await codeFor(user.secret) }), 400, "invalid_grant");
    await login(user.email);

    const mail = await expectMail(user.email, "Two-step login is off");
    expect(mail.text).toContain("An administrator turned two-step login off");
    const [audited] = await expectAudited(user.user.id, "mfa_reset_by_admin");
    expect(JSON.parse(String(audited?.details))).toEqual({ by: admin.user.id });
  });

  it("is refused to users without users:write (the user themselves too); it stays on", async () => {
    const user = await newMfaUser();
    const viewer = await newSession();
    await grantRole(viewer.user.id, "viewer");
    const viewerToken = (await login(viewer.email)).access_token;
    for (const token of [(await newSession()).access_token, viewerToken, user.access_token]) {
      await expectError(await reset(user.user.id, bearer(token)), 403, "insufficient_scope");
    }
    await expectError(await reset(user.user.id), 401, "invalid_token");
    expect(await mfaStatus(user.access_token)).toEqual({ totp: true, recovery_codes_left: 10 });
    expect(await mfaEnabledFlag(user.user.id)).toBe(1);
    await firstStep(user.email);
  });

  it("answers 404 for a user without two-step login, and for no such user", async () => {
    const admin = await newAdmin();
    const plain = await newSession();
    await expectError(await reset(plain.user.id, bearer(admin.access_token)), 404, "not_found");
    await expectError(await reset(crypto.randomUUID(), bearer(admin.access_token)), 404, "not_found");
    await login(plain.email);
    // A started but unconfirmed enrolment is not two-step login: 404, no mail, no audit row.
    expect((await beginEnrolment(plain.access_token)).status).toBe(201);
    await expectError(await reset(plain.user.id, bearer(admin.access_token)), 404, "not_found");
    expect(await auditEvents(plain.user.id, "mfa_reset_by_admin")).toHaveLength(0);
  });

  it("lets the user enrol a new authenticator afterwards", async () => {
    const admin = await newAdmin();
    const user = await newMfaUser();
    expect((await reset(user.user.id, bearer(admin.access_token))).status).toBe(204);
    const fresh = await login(user.email);
    const begun = await send(
      new Request(`${BASE}/auth/mfa/totp`, { method: "POST", headers: bearer(fresh.access_token) }),
    );
    expect(begun.status).toBe(201);
    expect(await mfaStatus(fresh.access_token)).toEqual({ totp: false, recovery_codes_left: 0 });
  });
});
