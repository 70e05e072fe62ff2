import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  BASE,
  expectError,
  freshEmail,
  login,
  outbox,
  PASSWORD,
  postJson,
  send,
  userRow,
  verificationTokenFrom,
} from "../helpers";

async function signupForToken(): Promise<{ email: string; token: string }> {
  const email = freshEmail();
  expect((await postJson("/auth/signup", { email, password: PASSWORD })).status).toBe(202);
  const [mail] = await outbox(email);
  if (!mail) throw new Error("no mail");
  return { email, token: verificationTokenFrom(mail) };
}

describe("POST /auth/verify-email", () => {
  it("verifies the email and answers with the user; login then works", async () => {
    const { email, token } = await signupForToken();
    const response = await postJson("/auth/verify-email", { token, password: PASSWORD });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ user: { email, email_verified: true } });
    await login(email);
  });

  it("stores only a SHA-256 of the token", async () => {
    const { email, token } = await signupForToken();
    const row = await env.DB.prepare(
      "SELECT t.token_hash FROM one_time_secrets t JOIN users u ON u.id = t.user_id WHERE u.email = ? AND t.purpose = 'email_verification'",
    )
      .bind(email)
      .first<{ token_hash: string }>();
    expect(row?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.token_hash).not.toContain(token);
  });

  it("refuses a token the second time: single use", async () => {
    const { token } = await signupForToken();
    expect((await postJson("/auth/verify-email", { token, password: PASSWORD })).status).toBe(200);
    await expectError(await postJson("/auth/verify-email", { token, password: PASSWORD }), 400, "invalid_grant");
  });

  it("lets exactly one of two concurrent uses of a token succeed", async () => {
    const { token } = await signupForToken();
    const answers = await Promise.all([
      postJson("/auth/verify-email", { token, password: PASSWORD }),
      postJson("/auth/verify-email", { token, password: PASSWORD }),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 400]);
  });

  it("refuses an expired token and leaves the email unverified", async () => {
    const { email, token } = await signupForToken();
    const user = await userRow(email);
    await env.DB.prepare(
      "UPDATE one_time_secrets SET expires_at = ? WHERE user_id = ? AND purpose = 'email_verification'",
    )
      .bind(Date.now() - 1, user?.id)
      .run();
    await expectError(await postJson("/auth/verify-email", { token, password: PASSWORD }), 400, "invalid_grant");
    expect((await userRow(email))?.email_verified_at).toBeNull();
  });

  it("refuses an unknown token and a missing one", async () => {
    await expectError(
      await postJson("/auth/verify-email", { token: "not-a-real-token", password: PASSWORD }),
      400,
      "invalid_grant",
    );
    await expectError(await postJson("/auth/verify-email", {}), 400, "invalid_request");
  });

  it("needs the password chosen at signup: a wrong one spends nothing and counts as a failed login", async () => {
    const { email, token } = await signupForToken();
    await expectError(await postJson("/auth/verify-email", { token }), 400, "invalid_request");
    await expectError(
      await postJson("/auth/verify-email", { token, password: "not the signup password" }),
      401,
      "invalid_credentials",
    );
    expect((await userRow(email))?.email_verified_at).toBeNull();
    const audited = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM audit_log WHERE event = 'email_verification_failed' AND user_id = ?",
    )
      .bind((await userRow(email))?.id)
      .first<number>("n");
    expect(audited).toBe(1);
    // The link still works with the right password.
    expect((await postJson("/auth/verify-email", { token, password: PASSWORD })).status).toBe(200);
  });

  it("locks guessing at the link's password like login does", async () => {
    const { token } = await signupForToken();
    const guess = () => postJson("/auth/verify-email", { token, password: "a wrong guess entirely" });
    for (let i = 0; i < 5; i++) await expectError(await guess(), 401, "invalid_credentials");
    await expectError(await guess(), 429, "too_many_requests");
    await expectError(await postJson("/auth/verify-email", { token, password: PASSWORD }), 429, "too_many_requests");
  });
});

describe("GET /auth/verify-email (the mailed link)", () => {
  it("serves a confirmation page that asks for the password, without spending the token", async () => {
    const { token } = await signupForToken();
    const page = await send(`${BASE}/auth/verify-email?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(page.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).not.toContain(token);
    expect(html).toMatch(/<input id="password" type="password" autocomplete="current-password"/);
    expect((await postJson("/auth/verify-email", { token, password: PASSWORD })).status).toBe(200);
  });
});
