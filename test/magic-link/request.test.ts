// Asking for a magic link, and the page behind it: the same answer for every
// address (mail only to an enabled account, or with MAGIC_LINK_SIGNUP to a new
// address), what is stored (hashes only, 15 minutes), the limits per address
// and per IP, bad input, and a page that spends nothing when opened.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sha256Hex } from "../../src/lib/crypto/digest";
import { BASE, expectError, freshEmail, outbox, postJson, randomIp, send, signupAndVerify, userRow } from "../helpers";
import { allLinkRows, ask, latestLinkMail, linkRow, mailedLink, verify } from "./support";

afterEach(() => {
  vi.useRealTimers();
});

describe("POST /auth/magic-link", () => {
  it("answers 202 the same for known and unknown addresses, mailing only the known one", async () => {
    const email = await signupAndVerify();
    const unknown = freshEmail("nobody");
    const [a, b] = await Promise.all([ask(email), ask(unknown)]);
    expect([a.status, b.status]).toEqual([202, 202]);
    const [bodyA, bodyB] = [await a.json(), await b.json()];
    expect(bodyA).toEqual(bodyB);
    expect(bodyA).toEqual({ status: "link_requested" });
    expect(await outbox(unknown)).toEqual([]);
    const mailed = await latestLinkMail(email);
    expect(mailed?.mail.subject).toBe("Your sign-in link");
    expect(mailed?.link).toMatch(/^https:\/\/auth\.test\/auth\/magic-link\?token=[A-Za-z0-9_-]{43}$/);
    expect(mailed?.code).toMatch(/^\d{6}$/);
    expect(mailed?.mail.html).toContain(mailed?.code);
  });

  it("stores the token and the code only as hashes, for 15 minutes", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const now = Date.now();
    vi.setSystemTime(now);
    const email = await signupAndVerify();
    const { token, code } = await mailedLink(email);
    const row = await linkRow(token);
    expect(row).toMatchObject({ used_at: null, attempts: 0, expires_at: now + 15 * 60_000 });
    expect(row?.token_hash).toBe(await sha256Hex(token));
    // The token is 256 bits (43 base64url characters); neither it nor the code is in the table.
    expect(token).toHaveLength(43);
    const table = JSON.stringify((await env.DB.prepare("SELECT * FROM one_time_secrets").all()).results);
    expect(table).not.toContain(token);
    const payload = JSON.parse(row?.payload ?? "{}");
    expect(JSON.stringify(payload)).not.toContain(`"${code}"`);
    expect(payload.code).toEqual({
      salt: expect.any(String),
      hmac: expect.stringMatching(/^[0-9a-f]{64}$/),
      pepper_id: "p1",
    });
    expect(payload.code.hmac).not.toBe(await sha256Hex(code));
    // Found by a hash of the address, never the address itself.
    expect(row?.subject).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.subject).not.toContain(email);
  });

  it("replaces the address's earlier link: only the newest works", async () => {
    const email = await signupAndVerify();
    const first = await mailedLink(email);
    const second = await mailedLink(email);
    expect(await linkRow(first.token)).toBeNull();
    await expectError(await verify({ token: first.token }), 400, "invalid_grant");
    await expectError(
      await verify({ email, code: first.code === second.code ? "000000" : first.code }),
      401,
      "invalid_credentials",
    );
    expect((await verify({ token: second.token })).status).toBe(200);
  });

  it("mails nothing to a disabled account (and answers the same)", async () => {
    const email = await signupAndVerify();
    await env.DB.prepare("UPDATE users SET disabled_at = ? WHERE email = ?").bind(Date.now(), email).run();
    const response = await ask(email);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ status: "link_requested" });
    expect(await latestLinkMail(email)).toBeNull();
  });

  it("with MAGIC_LINK_SIGNUP=true, mails an unknown address a sign-up link (and still answers the same)", async () => {
    const email = freshEmail("newcomer");
    const response = await ask(email, {}, { MAGIC_LINK_SIGNUP: "true" });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ status: "link_requested" });
    const mailed = await latestLinkMail(email);
    expect(mailed?.mail.subject).toBe("Your sign-up link");
    expect((await linkRow(mailed?.token ?? ""))?.user_id).toBeNull();
    // Nothing exists until the link is used.
    expect(await userRow(email)).toBeNull();
  });

  it("limits the mails per address (from any IP): 429 with Retry-After", async () => {
    const email = freshEmail("flooded");
    for (let i = 0; i < 5; i++) expect((await ask(email, {}, {}, { "CF-Connecting-IP": randomIp() })).status).toBe(202);
    const refused = await ask(email, {}, {}, { "CF-Connecting-IP": randomIp() });
    await expectError(refused, 429, "too_many_requests");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    // The same for an address with an account.
    const known = await signupAndVerify();
    for (let i = 0; i < 5; i++) await ask(known);
    await expectError(await ask(known), 429, "too_many_requests");
    expect((await outbox(known)).filter((m) => m.subject === "Your sign-in link")).toHaveLength(5);
  });

  it("limits the requests per IP: 429 with Retry-After and RateLimit fields", async () => {
    const ip = randomIp();
    const tight = { RATE_LIMIT_MAGIC_LINK_PER_IP: "2" };
    for (let i = 0; i < 2; i++) {
      const response = await ask(freshEmail(), {}, tight, { "CF-Connecting-IP": ip });
      expect(response.status).toBe(202);
      expect(response.headers.get("RateLimit-Policy")).toMatch(/^"magic-link";q=2;w=\d+$/);
    }
    const refused = await ask(freshEmail(), {}, tight, { "CF-Connecting-IP": ip });
    await expectError(refused, 429, "too_many_requests");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
  });

  it("refuses bad input with 4xx and the error shape, changing nothing", async () => {
    const email = await signupAndVerify();
    const rowsBefore = await allLinkRows();
    const cases: [unknown, number, string][] = [
      [{}, 400, "invalid_request"],
      [{ email: 42 }, 400, "invalid_request"],
      [{ email: "not an address" }, 400, "invalid_request"],
      [{ email: `${"a".repeat(2000)}@example.com` }, 400, "invalid_request"],
      [{ email, mode: "session" }, 400, "invalid_request"],
      [{ email, remember_me: "yes" }, 400, "invalid_request"],
      [[email], 400, "invalid_request"],
      ["{not json", 400, "invalid_request"],
    ];
    for (const [body, status, error] of cases)
      await expectError(await postJson("/auth/magic-link", body), status, error);
    const plain = new Request(`${BASE}/auth/magic-link`, { method: "POST", body: `email=${email}` });
    await expectError(await send(plain), 415, "invalid_request");
    expect(await allLinkRows()).toEqual(rowsBefore);
    expect(await latestLinkMail(email)).toBeNull();
    // The bad requests spent none of the address's mail quota.
    for (let i = 0; i < 5; i++) expect((await ask(email)).status).toBe(202);
  });
});

describe("GET /auth/magic-link", () => {
  it("serves a page with a button, with strict headers, and spends nothing (however often it is opened)", async () => {
    const email = await signupAndVerify();
    const { token } = await mailedLink(email, { mode: "cookie" });
    for (let i = 0; i < 3; i++) {
      const page = await send(`${BASE}/auth/magic-link?token=${token}`);
      expect(page.status).toBe(200);
      expect(page.headers.get("Content-Type")).toMatch(/^text\/html/);
      expect(page.headers.get("Referrer-Policy")).toBe("no-referrer");
      expect(page.headers.get("Cache-Control")).toBe("no-store");
      const csp = page.headers.get("Content-Security-Policy") ?? "";
      expect(csp).toMatch(/default-src 'none'/);
      expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
      expect(csp).toMatch(/form-action 'none'/);
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(page.headers.get("X-Frame-Options")).toBe("SAMEORIGIN");
      const html = await page.text();
      expect(html).toContain('<button id="go" type="submit">Sign in</button>');
      expect(html).not.toContain(token);
      // It names the account, so a link someone else asked for cannot sign this browser in unnoticed.
      expect(html).toContain(`signs in as <strong>${email}</strong>`);
    }
    expect(await linkRow(token)).toMatchObject({ used_at: null, attempts: 0 });
    const response = await verify({ token });
    expect(response.status).toBe(200);
  });

  it("tells the user to type the code into the app for a link an app asked for (mode token)", async () => {
    const email = await signupAndVerify();
    const { token } = await mailedLink(email);
    const page = await send(`${BASE}/auth/magic-link?token=${token}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Enter the code in the app");
    expect(html).not.toContain("<button");
    expect(html).not.toContain("<script");
    expect(page.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(await linkRow(token)).toMatchObject({ used_at: null });
  });

  it("says a used, unknown or malformed link cannot be used", async () => {
    const email = await signupAndVerify();
    const { token } = await mailedLink(email, { mode: "cookie" });
    expect((await verify({ token })).status).toBe(200);
    for (const query of [`token=${token}`, "token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "token=%00", ""]) {
      const page = await send(`${BASE}/auth/magic-link?${query}`);
      expect(page.status).toBe(400);
      expect(page.headers.get("Referrer-Policy")).toBe("no-referrer");
      expect(await page.text()).toContain("This link cannot be used");
    }
  });
});
