// The audit log: one row per security event, written after the response.
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/app/index";
import { deferrer } from "../../src/app/request-context";
import { AuditLog } from "../../src/audit/audit-log";
import { type AuditRow, AuditStore } from "../../src/audit/audit-store";
import {
  BASE,
  bearer,
  freshEmail,
  jsonRequest,
  newSession,
  outbox,
  PASSWORD,
  postJson,
  send,
  sendWithEnv,
  signupAndVerify,
  userRow,
} from "../helpers";

type Row = AuditRow;

/** Audit writes happen after the response (waitUntil), so poll until they land. */
async function auditFor(userId: string, event: string): Promise<Row[]> {
  let rows: Row[] = [];
  await vi.waitFor(async () => {
    rows = (
      await env.DB.prepare("SELECT * FROM audit_log WHERE user_id = ? AND event = ? ORDER BY id")
        .bind(userId, event)
        .all<Row>()
    ).results;
    expect(rows.length).toBeGreaterThan(0);
  });
  return rows;
}

describe("audit log", () => {
  it("records signup, verification and login success with who, where and which request", async () => {
    const email = freshEmail();
    const ip = "198.51.100.7";
    const signup = await send(
      new Request(`${BASE}/auth/signup`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip, "User-Agent": "AuditTest/1.0" },
        body: JSON.stringify({ email, password: PASSWORD }),
        cf: { country: "DE" },
      }),
    );
    const userId = String((await userRow(email))?.id);
    const [row] = await auditFor(userId, "signup");
    expect(row).toMatchObject({
      ip,
      user_agent: "AuditTest/1.0",
      country: "DE",
      request_id: signup.headers.get("X-Request-Id"),
    });
    expect(JSON.parse(row?.details ?? "{}")).toEqual({ existing_account: false });

    const [mail] = await outbox(email);
    const token = /token=([A-Za-z0-9_-]+)/.exec(mail?.text ?? "")?.[1];
    await postJson("/auth/verify-email", { token, password: PASSWORD });
    await auditFor(userId, "email_verified");
    await postJson("/auth/login", { email, password: PASSWORD });
    await auditFor(userId, "login_succeeded");
  });

  it("keeps the reason of a failed login internal: in the row, never in the response", async () => {
    const email = await signupAndVerify();
    const userId = String((await userRow(email))?.id);
    const response = await postJson("/auth/login", { email, password: "wrong password entirely" });
    expect(JSON.stringify(await response.json())).not.toContain("wrong_password");
    const [row] = await auditFor(userId, "login_failed");
    expect(JSON.parse(row?.details ?? "{}")).toEqual({ reason: "wrong_password" });
  });

  it("records failed logins for unknown accounts, and lockouts", async () => {
    const countUnknown = () =>
      env.DB.prepare(
        "SELECT COUNT(*) AS n FROM audit_log WHERE event = 'login_failed' AND user_id IS NULL AND instr(details, 'unknown_email') > 0",
      ).first<number>("n");
    const before = (await countUnknown()) ?? 0;
    const email = freshEmail("nobody");
    for (let i = 0; i < 6; i++) await postJson("/auth/login", { email, password: "wrong password entirely" });
    await vi.waitFor(async () => {
      // Five failures reached the password check; the sixth met the lock.
      expect(await countUnknown()).toBe(before + 5);
      const locked = await env.DB.prepare(
        "SELECT details FROM audit_log WHERE event = 'login_locked' AND instr(details, ?) > 0",
      )
        .bind(email)
        .first<string>("details");
      expect(locked).toContain("login:acct:");
    });
  });

  it("writes one row for a run of refusals, not one per request, and logs the rest", async () => {
    const log = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const ip = `198.51.100.${100 + Math.floor(Math.random() * 100)}`;
      const tight = { RATE_LIMIT_LOGIN_PER_IP: "1" };
      for (let i = 0; i < 26; i++) {
        await sendWithEnv(
          tight,
          jsonRequest("/auth/login", { email: freshEmail(), password: "x" }, { "CF-Connecting-IP": ip }),
        );
      }
      const email = freshEmail("flood");
      for (let i = 0; i < 35; i++) await postJson("/auth/login", { email, password: "wrong password entirely" });
      await vi.waitFor(async () => {
        const count = (event: string, needle: string) =>
          env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE event = ? AND instr(details, ?) > 0")
            .bind(event, needle)
            .first<number>("n");
        // 25 requests over the per-IP limit, 30 on a locked account: one row each.
        expect(await count("rate_limited", `login:ip:${ip}`)).toBe(1);
        expect(await count("login_locked", email)).toBe(1);
      });
      const logged = log.mock.calls.map(([line]) => String(line));
      expect(logged.filter((line) => line.includes('"event":"rate_limited"') && line.includes(ip))).toHaveLength(24);
      expect(logged.filter((line) => line.includes('"event":"login_locked"') && line.includes(email))).toHaveLength(29);
    } finally {
      log.mockRestore();
    }
  });

  it("audits the lock itself even when a burst's refusals came first", async () => {
    const email = freshEmail("burst");
    // Five guesses reach the check while the rest of the burst is refused (pending, not locked yet).
    await Promise.all(
      Array.from({ length: 12 }, () => postJson("/auth/login", { email, password: "wrong password x" })),
    );
    await postJson("/auth/login", { email, password: "wrong password x" });
    await vi.waitFor(async () => {
      const rows = await env.DB.prepare(
        "SELECT details FROM audit_log WHERE event = 'login_locked' AND instr(details, ?) > 0",
      )
        .bind(email)
        .all<{ details: string }>();
      expect(rows.results.map((r) => (JSON.parse(r.details) as { locked: boolean }).locked)).toContain(true);
    });
  });

  it("records logout, logout-all and refresh-token reuse", async () => {
    const session = await newSession();
    await send(new Request(`${BASE}/auth/logout`, { method: "POST", headers: bearer(session.access_token) }));
    await auditFor(session.user.id, "logout");
    const other = await newSession();
    await send(new Request(`${BASE}/auth/logout-all`, { method: "POST", headers: bearer(other.access_token) }));
    await auditFor(other.user.id, "logout_all");
    const third = await newSession();
    const noGrace = { REFRESH_REUSE_GRACE_SECONDS: "0" };
    await sendWithEnv(noGrace, jsonRequest("/auth/refresh", { refresh_token: third.refresh_token }));
    await scheduler.wait(5);
    await sendWithEnv(noGrace, jsonRequest("/auth/refresh", { refresh_token: third.refresh_token }));
    const [reuse] = await auditFor(third.user.id, "refresh_token_reused");
    expect(JSON.parse(reuse?.details ?? "{}")).toHaveProperty("family_id");
  });

  it("records password reset, password change, CAPTCHA and rate-limit events", async () => {
    const session = await newSession();
    const userId = session.user.id;
    await sendWithEnv({}, jsonRequest("/auth/password-reset", { email: session.email }));
    await auditFor(userId, "password_reset_requested");
    await postJson("/auth/password-reset/confirm", { token: "not-a-real-token", password: "a fine new password" });
    await vi.waitFor(async () => {
      const failed = await env.DB.prepare(
        "SELECT COUNT(*) AS n FROM audit_log WHERE event = 'password_reset_failed'",
      ).first<number>("n");
      expect(failed).toBeGreaterThan(0);
    });
    await postJson(
      "/auth/password",
      { current_password: "wrong password entirely", new_password: "a fine new password" },
      bearer(session.access_token),
    );
    const [changeFailed] = await auditFor(userId, "password_change_failed");
    expect(JSON.parse(changeFailed?.details ?? "{}")).toEqual({ reason: "wrong_password" });

    vi.stubGlobal("fetch", async () => Response.json({ success: false }));
    try {
      const captcha = { TURNSTILE_SECRET: "secret", CAPTCHA_AFTER_FAILURES: "1" };
      const email = freshEmail("captcha");
      await sendWithEnv(captcha, jsonRequest("/auth/login", { email, password: "wrong password entirely" }));
      await sendWithEnv(captcha, jsonRequest("/auth/login", { email, password: "wrong password entirely" }));
    } finally {
      vi.unstubAllGlobals();
    }
    const ip = "198.51.100.250";
    const tight = { RATE_LIMIT_LOGIN_PER_IP: "1" };
    for (let i = 0; i < 2; i++) {
      await sendWithEnv(
        tight,
        jsonRequest("/auth/login", { email: freshEmail(), password: "x" }, { "CF-Connecting-IP": ip }),
      );
    }
    const events = (await env.DB.prepare("SELECT DISTINCT event FROM audit_log").all<{ event: string }>()).results.map(
      (r) => r.event,
    );
    expect(events).toEqual(expect.arrayContaining(["captcha_failed", "rate_limited"]));
  });

  it("never fails the request when the audit write fails", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const failing = { insert: async () => Promise.reject(new Error("D1 is down")) } as unknown as AuditStore;
    const pending: Promise<unknown>[] = [];
    const meta = { ip: null, userAgent: null, country: null, requestId: "r1" };
    const defer = deferrer((p) => pending.push(p), meta.requestId);
    const audit = new AuditLog({ store: failing, meta, defer });
    expect(() => audit.record("logout", "u1")).not.toThrow();
    await Promise.all(pending);
    expect(log).toHaveBeenCalledWith(expect.stringContaining("audit_write_failed"));
    log.mockRestore();
  });

  it("is pruned by the cron trigger after the retention period", async () => {
    const store = new AuditStore(env.DB);
    const day = 86_400_000;
    const now = Date.now();
    const base = { userId: "prune-user", ip: null, userAgent: null, country: null, requestId: null, details: {} };
    await store.insert({ ...base, event: "logout", createdAt: now - 91 * day });
    await store.insert({ ...base, event: "logout_all", createdAt: now - 89 * day });
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: now, cron: "17 3 * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const left = await store.listForUser("prune-user");
    expect(left.map((r) => r.event)).toEqual(["logout_all"]);
  });

  it("prunes one-time tokens expired for over a day, and keeps the rest", async () => {
    const email = freshEmail();
    await postJson("/auth/signup", { email, password: PASSWORD });
    const userId = String((await userRow(email))?.id);
    const now = Date.now();
    await env.DB.prepare(
      "INSERT INTO one_time_secrets (token_hash, purpose, user_id, expires_at, created_at) VALUES (?, 'password_reset', ?, ?, ?)",
    )
      .bind(`old-${crypto.randomUUID()}`, userId, now - 2 * 86_400_000, now - 3 * 86_400_000)
      .run();
    await env.DB.prepare(
      "INSERT INTO one_time_secrets (token_hash, purpose, user_id, expires_at, created_at) VALUES (?, 'password_reset', ?, ?, ?)",
    )
      .bind(`live-${crypto.randomUUID()}`, userId, now + 3_600_000, now)
      .run();
    await env.DB.prepare(
      "UPDATE one_time_secrets SET expires_at = ? WHERE user_id = ? AND purpose = 'email_verification'",
    )
      .bind(now - 2 * 86_400_000, userId)
      .run();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: now, cron: "17 3 * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const count = (purpose: string) =>
      env.DB.prepare("SELECT COUNT(*) AS n FROM one_time_secrets WHERE user_id = ? AND purpose = ?")
        .bind(userId, purpose)
        .first<number>("n");
    expect(await count("password_reset")).toBe(1);
    expect(await count("email_verification")).toBe(0);
  });
});

describe("new-device mail", () => {
  // sendWithEnv waits for the work done after the response, where the notice is sent.
  function loginWith(email: string, userAgent: string, country: string): Promise<Response> {
    return sendWithEnv(
      {},
      new Request(`${BASE}/auth/login`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "User-Agent": userAgent, "CF-Connecting-IP": "198.51.100.20" },
        body: JSON.stringify({ email, password: PASSWORD }),
        cf: { country },
      }),
    );
  }
  const chrome =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36";
  const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0";

  it("is sent once per new device (browser family + country), the first one included", async () => {
    const email = await signupAndVerify();
    const subjects = async () => (await outbox(email)).map((m) => m.subject).filter((s) => s.startsWith("New sign-in"));
    // The first login after verification is a new device: if the owner confirmed
    // the address for someone else's signup by mistake, this mail tells them.
    expect((await loginWith(email, chrome, "DE")).status).toBe(200);
    expect(await subjects()).toEqual(["New sign-in to your account"]);
    await loginWith(email, chrome.replace("130.0", "131.0"), "DE"); // a browser update is not a new device
    expect(await subjects()).toHaveLength(1);
    await loginWith(email, firefox, "DE");
    expect(await subjects()).toHaveLength(2);
    await loginWith(email, firefox, "DE");
    expect(await subjects()).toHaveLength(2);
    await loginWith(email, chrome, "US");
    expect(await subjects()).toHaveLength(3);
    const mails = await outbox(email);
    expect(mails.at(-1)?.text).toContain("Chrome on Windows (US)");
  });

  it("audits every login, and rewrites a known device's last sighting at most once an hour", async () => {
    const email = await signupAndVerify();
    const userId = String((await userRow(email))?.id);
    const lastSeen = () =>
      env.DB.prepare("SELECT last_seen_at FROM known_devices WHERE user_id = ?")
        .bind(userId)
        .first<number>("last_seen_at");
    const logins = () =>
      env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE user_id = ? AND event = 'login_succeeded'")
        .bind(userId)
        .first<number>("n");
    expect((await loginWith(email, firefox, "DE")).status).toBe(200);
    const first = await lastSeen();
    expect(first).toEqual(expect.any(Number));
    expect((await loginWith(email, firefox, "DE")).status).toBe(200);
    expect(await lastSeen()).toBe(first);
    expect(await logins()).toBe(2);
    const twoHoursAgo = Date.now() - 7_200_000;
    await env.DB.prepare("UPDATE known_devices SET last_seen_at = ? WHERE user_id = ?").bind(twoHoursAgo, userId).run();
    expect((await loginWith(email, firefox, "DE")).status).toBe(200);
    expect(await lastSeen()).toBeGreaterThan(twoHoursAgo);
    expect(await logins()).toBe(3);
    // Still the same device: one notice, for its first sign-in.
    expect((await outbox(email)).filter((m) => m.subject.startsWith("New sign-in"))).toHaveLength(1);
  });
});
