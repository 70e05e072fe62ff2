import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { BODY_LIMIT_BYTES } from "../../src/app/app";
import { getConfig } from "../../src/app/config";
import { PBKDF2_MAX_ITERATIONS } from "../../src/lib/crypto/pbkdf2";
import {
  BASE,
  expectError,
  freshEmail,
  jsonRequest,
  login,
  PASSWORD,
  postJson,
  send,
  sendWithEnv,
  signupAndVerify,
  userRow,
} from "../helpers";

describe("POST /auth/login", () => {
  it("answers 200 with an access token, a refresh token and the user", async () => {
    const email = await signupAndVerify();
    const response = await postJson("/auth/login", { email: email.toUpperCase(), password: PASSWORD });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const body = await response.json();
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 600, user: { email, email_verified: true } });
    expect(Object.keys(body as object).sort()).toEqual([
      "access_token",
      "expires_in",
      "refresh_token",
      "token_type",
      "user",
    ]);
    expect(JSON.stringify(body)).not.toContain("pbkdf2");
  });

  it("answers unknown email, wrong password and disabled account with the same 401 body", async () => {
    const email = await signupAndVerify();
    const disabled = await signupAndVerify();
    await env.DB.prepare("UPDATE users SET disabled_at = ? WHERE email = ?").bind(Date.now(), disabled).run();

    const answers = await Promise.all([
      postJson("/auth/login", { email: freshEmail("nobody"), password: PASSWORD }),
      postJson("/auth/login", { email, password: "wrong password entirely" }),
      postJson("/auth/login", { email: disabled, password: PASSWORD }),
      postJson("/auth/login", { email: "not an email", password: PASSWORD }),
    ]);
    const bodies = await Promise.all(answers.map((r) => r.json()));
    expect(answers.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    for (const body of bodies) {
      expect(body).toEqual({ error: "invalid_credentials", error_description: "The email or password is incorrect." });
    }
  });

  it("answers 403 email_not_verified only to someone who knows the password", async () => {
    const email = freshEmail();
    await postJson("/auth/signup", { email, password: PASSWORD });
    await expectError(await postJson("/auth/login", { email, password: PASSWORD }), 403, "email_not_verified");
    await expectError(
      await postJson("/auth/login", { email, password: "wrong password entirely" }),
      401,
      "invalid_credentials",
    );
  });

  it("refuses an over-long password with the generic answer", async () => {
    const email = await signupAndVerify();
    await expectError(await postJson("/auth/login", { email, password: "y".repeat(5000) }), 401, "invalid_credentials");
  });

  it("re-hashes a password made with fewer iterations at the next successful login", async () => {
    // Tests run at the floor (vitest.config.ts), so the configured count is the weaker one here.
    const email = freshEmail();
    const weaker = env.PBKDF2_ITERATIONS;
    const stronger = { PBKDF2_ITERATIONS: "20000" };
    await postJson("/auth/signup", { email, password: PASSWORD });
    expect(String((await userRow(email))?.password_hash)).toMatch(new RegExp(`^pbkdf2-sha256\\$${weaker}\\$p1\\$`));
    await env.DB.prepare("UPDATE users SET email_verified_at = 1 WHERE email = ?").bind(email).run();

    await expectError(
      await sendWithEnv(stronger, jsonRequest("/auth/login", { email, password: "wrong password entirely" })),
      401,
      "invalid_credentials",
    );
    expect(String((await userRow(email))?.password_hash)).toMatch(new RegExp(`^pbkdf2-sha256\\$${weaker}\\$`));
    expect((await sendWithEnv(stronger, jsonRequest("/auth/login", { email, password: PASSWORD }))).status).toBe(200);
    expect(String((await userRow(email))?.password_hash)).toMatch(/^pbkdf2-sha256\$20000\$p1\$/);
    expect((await sendWithEnv(stronger, jsonRequest("/auth/login", { email, password: PASSWORD }))).status).toBe(200);
  });

  it("re-hashes under the new pepper after a pepper rotation, and the old pepper keeps working until then", async () => {
    const email = await signupAndVerify();
    const rotated = {
      PASSWORD_PEPPER: "a-brand-new-pepper-of-at-least-32-characters",
      PASSWORD_PEPPER_ID: "p2",
      PASSWORD_OLD_PEPPERS: JSON.stringify({ p1: env.PASSWORD_PEPPER }),
    };
    const response = await sendWithEnv(rotated, jsonRequest("/auth/login", { email, password: PASSWORD }));
    expect(response.status).toBe(200);
    expect(String((await userRow(email))?.password_hash)).toMatch(
      new RegExp(`^pbkdf2-sha256\\$${env.PBKDF2_ITERATIONS}\\$p2\\$`),
    );
    // Once the old pepper is retired, the re-hashed password still works.
    const retired = { PASSWORD_PEPPER: rotated.PASSWORD_PEPPER, PASSWORD_PEPPER_ID: "p2" };
    expect((await sendWithEnv(retired, jsonRequest("/auth/login", { email, password: PASSWORD }))).status).toBe(200);
  });

  it("never configures more PBKDF2 iterations than Cloudflare's production cap", () => {
    expect(PBKDF2_MAX_ITERATIONS).toBe(100_000);
    expect(getConfig(env).passwords.iterations).toBeLessThanOrEqual(100_000);
    expect(() => getConfig({ ...env, PBKDF2_ITERATIONS: "100001" })).toThrow(/PBKDF2_ITERATIONS/);
  });
});

describe("bad input on /auth/*", () => {
  it("answers malformed JSON with 400 invalid_request", async () => {
    await expectError(await postJson("/auth/login", '{"email": "a@example.com",'), 400, "invalid_request");
  });

  it("answers a wrong content type with 415, naming the accepted type", async () => {
    const request = new Request(`${BASE}/auth/login`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "email=a%40example.com&password=x",
    });
    const response = await send(request);
    const { error_description } = await expectError(response, 415, "invalid_request");
    expect(error_description).toContain("Content-Type");
    expect(response.headers.get("Accept-Post")).toBe("application/json");
  });

  it("answers a JSON array or a non-string field with 400 invalid_request", async () => {
    await expectError(await postJson("/auth/login", "[]"), 400, "invalid_request");
    const { error_description } = await expectError(
      await postJson("/auth/login", { email: ["a@example.com"], password: PASSWORD }),
      400,
      "invalid_request",
    );
    expect(error_description).toContain("email");
  });

  it("answers a body over 16 KiB with 413 and creates nothing", async () => {
    const email = freshEmail();
    const body = JSON.stringify({ email, password: PASSWORD, padding: "x".repeat(BODY_LIMIT_BYTES) });
    await expectError(await postJson("/auth/signup", body), 413, "invalid_request");
    expect(await userRow(email)).toBeNull();
  });

  it("answers an unknown route with a 404 JSON error", async () => {
    await expectError(await send(`${BASE}/auth/nope`), 404, "not_found");
    await expectError(await send(`${BASE}/`), 404, "not_found");
  });

  it("still logs in when settling the success fails after the answer, and logs the failure", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const email = await signupAndVerify();
      const limiter = env.RATE_LIMITER;
      // The real limiter, except that settling a reservation fails.
      const failingSettle = {
        idFromName: (name: string) => limiter.idFromName(name),
        get: (id: DurableObjectId) => {
          const stub = limiter.get(id);
          return {
            consume: (...args: Parameters<typeof stub.consume>) => stub.consume(...args),
            reserveAttempt: (...args: Parameters<typeof stub.reserveAttempt>) => stub.reserveAttempt(...args),
            settleAttempt: async () => {
              throw new Error("Durable Object unreachable");
            },
          };
        },
      };
      const response = await sendWithEnv(
        { RATE_LIMITER: failingSettle },
        jsonRequest("/auth/login", { email, password: PASSWORD }),
      );
      expect(response.status).toBe(200);
      expect(log.mock.calls.some(([line]) => String(line).includes('"event":"login_settle_failed"'))).toBe(true);
    } finally {
      log.mockRestore();
    }
  });

  it("still audits the login when the device bookkeeping fails", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const email = await signupAndVerify();
      const userId = String((await userRow(email))?.id);
      // Only the batch that writes the audit row with the device check fails.
      const deviceStatements = new WeakSet<D1PreparedStatement>();
      const failingDeviceBatch = {
        prepare: (sql: string) => {
          const statement = env.DB.prepare(sql);
          if (!sql.includes("known_devices")) return statement;
          return {
            bind: (...values: unknown[]) => {
              const bound = statement.bind(...values);
              deviceStatements.add(bound);
              return bound;
            },
          };
        },
        batch: async (statements: D1PreparedStatement[]) => {
          if (statements.some((statement) => deviceStatements.has(statement))) throw new Error("D1 unavailable");
          return env.DB.batch(statements);
        },
      };
      const response = await sendWithEnv(
        { DB: failingDeviceBatch },
        jsonRequest("/auth/login", { email, password: PASSWORD }),
      );
      expect(response.status).toBe(200);
      const audited = await env.DB.prepare(
        "SELECT COUNT(*) AS n FROM audit_log WHERE user_id = ? AND event = 'login_succeeded'",
      )
        .bind(userId)
        .first<number>("n");
      expect(audited).toBe(1);
      expect(log.mock.calls.some(([line]) => String(line).includes('"event":"login_record_failed"'))).toBe(true);
    } finally {
      log.mockRestore();
    }
  });

  it("leaves no live session behind when the refresh token cannot be stored", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const email = await signupAndVerify();
      const userId = String((await userRow(email))?.id);
      const brokenKv = {
        put: async () => {
          throw new Error("KV unavailable");
        },
      };
      const response = await sendWithEnv(
        { TOKENS: brokenKv },
        jsonRequest("/auth/login", { email, password: PASSWORD }),
      );
      await expectError(response, 500, "server_error");
      const live = await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE user_id = ? AND revoked_at IS NULL")
        .bind(userId)
        .first<number>("n");
      expect(live).toBe(0);
      // The failure is not held against the account: the next login works.
      await login(email);
    } finally {
      log.mockRestore();
    }
  });
});
