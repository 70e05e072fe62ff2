import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  expectError,
  freshEmail,
  jsonRequest,
  login,
  outbox,
  PASSWORD,
  postJson,
  sendWithEnv,
  signupAndVerify,
  userRow,
  verificationTokenFrom,
} from "../helpers";

describe("POST /auth/signup", () => {
  it("answers 202 verification_required and mails a verification link built from PUBLIC_URL", async () => {
    const email = freshEmail();
    const response = await postJson("/auth/signup", { email, password: PASSWORD });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ status: "verification_required" });
    const mails = await outbox(email);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.text).toMatch(/^https:\/\/auth\.test\/auth\/verify-email\?token=[A-Za-z0-9_-]{43}$/m);
    const row = await userRow(email);
    expect(row?.email_verified_at).toBeNull();
    expect(String(row?.password_hash)).toMatch(new RegExp(`^pbkdf2-sha256\\$${env.PBKDF2_ITERATIONS}\\$p1\\$`));
  });

  it("gives a taken email the same answer, leaves the account untouched and tells its owner", async () => {
    const email = await signupAndVerify();
    const before = await userRow(email);
    const first = await postJson("/auth/signup", { email: freshEmail(), password: PASSWORD });
    const again = await postJson("/auth/signup", { email, password: "a different password 123" });
    expect(again.status).toBe(first.status);
    expect(await again.json()).toEqual(await first.json());
    expect(await userRow(email)).toEqual(before);
    // The original password still works; the attempted one does not.
    await login(email);
    await expectError(
      await postJson("/auth/login", { email, password: "a different password 123" }),
      401,
      "invalid_credentials",
    );
    // Sign-in notices (the login above) are sent after the response, in no fixed order.
    const mails = (await outbox(email)).filter((m) => !m.subject.startsWith("New sign-in"));
    expect(mails.map((m) => m.subject)).toEqual([
      "Confirm your email address",
      "Someone tried to sign up with your address",
    ]);
    expect(mails[1]?.text).not.toMatch(/token=/);
  });

  it("cannot pre-hijack an unverified address: the owner's own link installs the owner's password", async () => {
    const email = freshEmail("victim");
    // An attacker signs up first with the victim's address and a password of their choosing.
    await postJson("/auth/signup", { email, password: "attacker chosen password" });
    // The victim signs up too: same 202, and a mail that says a new signup was attempted.
    const again = await postJson("/auth/signup", { email, password: PASSWORD });
    expect(again.status).toBe(202);
    const mails = await outbox(email);
    expect(mails.map((m) => m.subject)).toEqual([
      "Confirm your email address",
      "A new signup was attempted with your address",
    ]);
    expect(mails[1]?.text).toContain("Someone just signed up again with this address");
    const [attackersLink, victimsLink] = mails.map(verificationTokenFrom);
    // The victim uses the link from their own signup, with their own password.
    expect((await postJson("/auth/verify-email", { token: victimsLink, password: PASSWORD })).status).toBe(200);
    await login(email);
    await expectError(
      await postJson("/auth/login", { email, password: "attacker chosen password" }),
      401,
      "invalid_credentials",
    );
    // The attacker's earlier link died with the verification.
    await expectError(
      await postJson("/auth/verify-email", { token: attackersLink, password: "attacker chosen password" }),
      400,
      "invalid_grant",
    );
    await login(email);
  });

  it.each([
    ["before", ["attacker chosen password", PASSWORD], 0],
    ["after", [PASSWORD, "attacker chosen password"], 1],
  ])(
    "cannot pre-hijack by signing up %s the owner: the attacker's link does not confirm with the owner's password",
    async (_, passwords, attackersIndex) => {
      const email = freshEmail("victim");
      for (const password of passwords) await postJson("/auth/signup", { email, password });
      const links = (await outbox(email)).map(verificationTokenFrom);
      const attackersLink = links[attackersIndex] ?? "";
      // The owner clicks the attacker's link: their own password does not confirm it ...
      await expectError(
        await postJson("/auth/verify-email", { token: attackersLink, password: PASSWORD }),
        401,
        "invalid_credentials",
      );
      expect((await userRow(email))?.email_verified_at).toBeNull();
      // ... and their own link does, with their own password: the attacker's never works.
      const ownersLink = links[1 - attackersIndex] ?? "";
      expect((await postJson("/auth/verify-email", { token: ownersLink, password: PASSWORD })).status).toBe(200);
      await login(email);
      await expectError(
        await postJson("/auth/login", { email, password: "attacker chosen password" }),
        401,
        "invalid_credentials",
      );
    },
  );

  it("normalizes the email: case, surrounding spaces and Unicode form make one account", async () => {
    const local = `Zoe\u0301-${crypto.randomUUID()}`; // "e" + combining acute accent
    await postJson("/auth/signup", { email: `  ${local}@Example.COM `, password: PASSWORD });
    const normalized = `${local.normalize("NFC").toLowerCase()}@example.com`;
    expect(await userRow(normalized)).not.toBeNull();
    const again = await postJson("/auth/signup", { email: normalized.toUpperCase(), password: PASSWORD });
    expect(again.status).toBe(202);
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE email = ?").bind(normalized).first("n");
    expect(count).toBe(1);
  });

  it.each([
    ["a NUL", "ada\u0000@example.com"],
    ["a bidi override", "ada\u202e@example.com"],
    ["a zero-width space", "a\u200bda@example.com"],
    ["a display name", "Ada <ada@example.com>"],
    ["angle brackets without spaces", "Ada<ada@example.com>"],
    ["a quoted local part", '"ada"@example.com'],
  ])("refuses an address holding %s with 400 invalid_request", async (_, email) => {
    await expectError(await postJson("/auth/signup", { email, password: PASSWORD }), 400, "invalid_request");
  });

  it("treats compatibility variants of an address as the same account (NFKC and case folding)", async () => {
    const local = `kate-${crypto.randomUUID().slice(0, 8)}`;
    const email = await signupAndVerify(`${local}@example.com`);
    // "ｋ" is a fullwidth k: under NFKC it is the same address.
    const wide = `ｋ${local.slice(1)}@example.com`;
    const again = await postJson("/auth/signup", { email: wide, password: "another password entirely" });
    expect(again.status).toBe(202);
    expect(await userRow(wide)).toBeNull();
    // The same account logs in by either spelling, and a lock counts both alike.
    await login(wide);
    for (let i = 0; i < 5; i++) await postJson("/auth/login", { email: wide, password: "wrong password entirely" });
    await expectError(await postJson("/auth/login", { email, password: PASSWORD }), 429, "too_many_requests");
  });

  it("asks 15 characters by default (a password is the only factor), and the setting can lower it to 8", async () => {
    const fourteen = "fourteen chars";
    const { error_description } = await expectError(
      await postJson("/auth/signup", { email: freshEmail(), password: fourteen }),
      400,
      "weak_password",
    );
    expect(error_description).toContain("at least 15");
    const lowered = await sendWithEnv(
      { PASSWORD_MIN_LENGTH: "8" },
      jsonRequest("/auth/signup", { email: freshEmail(), password: fourteen }),
    );
    expect(lowered.status).toBe(202);
  });

  it.each([
    ["too short", "short7!"],
    ["too common", "password123"],
    ["too common, whatever the case", "PASSWORD123"],
    ["longer than 256 characters", "x".repeat(257)],
    ["containing NUL", "good password\u0000tail"],
    // Two different passwords that would hash alike: each lone surrogate becomes U+FFFD.
    ["holding a lone high surrogate", "good password \ud800 tail"],
    ["holding a lone low surrogate", "good password \udfff tail"],
  ])("refuses a password that is %s with 400 weak_password and creates nothing", async (_, password) => {
    const email = freshEmail();
    await expectError(await postJson("/auth/signup", { email, password }), 400, "weak_password");
    expect(await userRow(email)).toBeNull();
    expect(await outbox(email)).toEqual([]);
  });

  it("accepts any Unicode and exactly 256 characters, never truncating", async () => {
    const email = await signupAndVerify(freshEmail(), "ü".repeat(256));
    await login(email, "ü".repeat(256));
    await expectError(await postJson("/auth/login", { email, password: "ü".repeat(255) }), 401, "invalid_credentials");
  });

  it("treats NFKC-equivalent passwords as the same password", async () => {
    const email = await signupAndVerify(freshEmail(), "ﬁne password ①②"); // ligature fi, circled digits
    await login(email, "fine password 12");
  });

  it.each([
    ["an invalid email", { email: "not-an-email", password: PASSWORD }, "email"],
    ["a missing email", { password: PASSWORD }, "email"],
    ["a non-string password", { email: "x@example.com", password: 12345678 }, "password"],
  ])("answers 400 invalid_request for %s, naming the field", async (_, body, field) => {
    const { error_description } = await expectError(await postJson("/auth/signup", body), 400, "invalid_request");
    expect(error_description).toContain(field);
  });
});

describe("POST /auth/signup with REQUIRE_EMAIL_VERIFICATION=false", () => {
  const noVerification = { REQUIRE_EMAIL_VERIFICATION: "false" };

  it("answers 201 with a token response and a verified user", async () => {
    const email = freshEmail();
    const response = await sendWithEnv(noVerification, jsonRequest("/auth/signup", { email, password: PASSWORD }));
    expect(response.status).toBe(201);
    const body = (await response.json()) as {
      token_type: string;
      access_token: string;
      refresh_token: string;
      user: { email: string; email_verified: boolean };
    };
    expect(body.token_type).toBe("Bearer");
    expect(body.access_token).toMatch(/^ey/);
    expect(body.refresh_token).toMatch(/^elr_[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(body.user).toMatchObject({ email, email_verified: true });
    expect(await outbox(email)).toEqual([]);
  });

  it("answers 409 email_taken for a taken email (the documented trade-off) and leaves the account as it was", async () => {
    const email = await signupAndVerify();
    const before = await userRow(email);
    const response = await sendWithEnv(
      noVerification,
      jsonRequest("/auth/signup", { email, password: "another fine password" }),
    );
    await expectError(response, 409, "email_taken");
    expect(await userRow(email)).toEqual(before);
  });
});

describe("one account per address, and the review's edge cases", () => {
  it("keeps ß and ss apart: IDNA2008 names different domains with them", async () => {
    const id = crypto.randomUUID().slice(0, 8);
    await postJson("/auth/signup", { email: `bob-${id}@strasse.example`, password: PASSWORD });
    await postJson("/auth/signup", { email: `bob-${id}@straße.example`, password: PASSWORD });
    expect(await userRow(`bob-${id}@strasse.example`)).not.toBeNull();
    expect(await userRow(`bob-${id}@straße.example`)).not.toBeNull();
  });

  it("mails a repeated signup to the account's stored address, never to the variant just typed", async () => {
    const local = `kate-${crypto.randomUUID().slice(0, 8)}`;
    const email = `${local}@example.com`;
    await postJson("/auth/signup", { email, password: PASSWORD });
    const wide = `ｋ${local.slice(1)}@example.com`;
    expect((await postJson("/auth/signup", { email: wide, password: "the other signer's password" })).status).toBe(202);
    expect(await outbox(wide)).toEqual([]);
    expect((await outbox(email)).map((m) => m.subject)).toEqual([
      "Confirm your email address",
      "A new signup was attempted with your address",
    ]);
  });

  it("finds an account not keyed yet by its exact address, even when a later account holds its key", async () => {
    // An account from before keys existed (email_key NULL), and a later fullwidth
    // variant that was given the key the older one will have.
    const local = `kåte-${crypto.randomUUID().slice(0, 8)}`;
    const legacy = await signupAndVerify(`${local}@example.com`);
    await env.DB.prepare("UPDATE users SET email_key = NULL WHERE email = ?").bind(legacy).run();
    await postJson("/auth/signup", {
      email: `ｋ${local.slice(1)}@example.com`,
      password: "the other signer's password",
    });
    await login(legacy);
  });

  it("still lets an account whose address predates the stricter rules log in", async () => {
    const email = await signupAndVerify();
    const old = `o'neil,${crypto.randomUUID().slice(0, 8)}@example.com`;
    await env.DB.prepare("UPDATE users SET email = ?, email_key = ? WHERE email = ?").bind(old, old, email).run();
    await login(old);
  });
});
