// Browser sessions: the cookie, CSRF, timeouts, and listing / revoking sessions of both kinds.
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { sha256Hex } from "../../src/lib/crypto/digest";
import {
  BASE,
  bearer,
  expectError,
  login,
  newSession,
  PASSWORD,
  postJson,
  send,
  sendWithEnv,
  signupAndVerify,
  type TokenResponse,
} from "../helpers";

const ORIGIN = "https://auth.test";

interface CookieLogin {
  cookie: string;
  csrf: string;
  setCookie: string;
  body: { csrf_token: string; user: { email: string } };
}

async function cookieLogin(email: string, extra: Record<string, unknown> = {}): Promise<CookieLogin> {
  const response = await postJson("/auth/login", { email, password: PASSWORD, mode: "cookie", ...extra });
  expect(response.status).toBe(200);
  const setCookie = response.headers.get("Set-Cookie") ?? "";
  const cookie = /^(__Host-edgelock_session=[^;]+)/.exec(setCookie)?.[1];
  if (!cookie) throw new Error(`no session cookie in: ${setCookie}`);
  const body = (await response.json()) as CookieLogin["body"];
  return { cookie, csrf: body.csrf_token, setCookie, body };
}

/** A request as the browser would send it with the cookie; `csrf` and `origin` are what a page adds. */
function withCookie(
  method: string,
  path: string,
  session: { cookie: string; csrf?: string },
  options: { origin?: string | null; csrf?: string | null; body?: unknown; fetchSite?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { Cookie: session.cookie };
  const origin = options.origin === undefined ? ORIGIN : options.origin;
  if (origin) headers.Origin = origin;
  if (options.fetchSite) headers["Sec-Fetch-Site"] = options.fetchSite;
  const csrf = options.csrf === undefined ? session.csrf : options.csrf;
  if (csrf) headers["X-CSRF-Token"] = csrf;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  return send(
    new Request(`${BASE}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    }),
  );
}

describe("cookie login", () => {
  it("sets a __Host- cookie: HttpOnly, Secure, SameSite=Lax, Path=/, no Domain; answers the CSRF token and the user", async () => {
    const email = await signupAndVerify();
    const { setCookie, body, csrf } = await cookieLogin(email);
    expect(setCookie).toMatch(/^__Host-edgelock_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; Secure/);
    expect(setCookie).toMatch(/; SameSite=Lax/);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).not.toMatch(/Domain=/i);
    expect(setCookie).toMatch(/; Max-Age=43200/);
    expect(body.user.email).toBe(email);
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Object.keys(body).sort()).toEqual(["csrf_token", "user"]);
  });

  it("stores only a hash of the cookie's secret", async () => {
    const email = await signupAndVerify();
    const { cookie } = await cookieLogin(email);
    const secret = cookie.split("=")[1] ?? "";
    const row = await env.DB.prepare("SELECT token_hash FROM sessions WHERE token_hash = ?")
      .bind(await sha256Hex(secret))
      .first();
    expect(row).not.toBeNull();
    const plain = await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE token_hash = ? OR id = ?")
      .bind(secret, secret)
      .first("n");
    expect(plain).toBe(0);
  });

  it("gives a new session id at every login (no fixation), and both stay separate", async () => {
    const email = await signupAndVerify();
    const first = await cookieLogin(email);
    const second = await cookieLogin(email);
    expect(second.cookie).not.toBe(first.cookie);
    expect(second.csrf).not.toBe(first.csrf);
    // A session presented at login is not adopted: the answer is always a fresh one.
    const response = await send(
      new Request(`${BASE}/auth/login`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Cookie: first.cookie, Origin: ORIGIN },
        body: JSON.stringify({ email, password: PASSWORD, mode: "cookie" }),
      }),
    );
    expect(response.headers.get("Set-Cookie")).not.toContain(first.cookie);
  });

  it("remember me lasts up to 30 days", async () => {
    const email = await signupAndVerify();
    const { setCookie } = await cookieLogin(email, { remember_me: true });
    expect(setCookie).toMatch(/; Max-Age=2592000/);
  });

  it("authenticates GET requests with the cookie alone, as the same identity as a bearer token", async () => {
    const email = await signupAndVerify();
    const session = await cookieLogin(email);
    const viaCookie = await withCookie("GET", "/auth/me", session, { origin: null, csrf: null });
    const viaBearer = await send(
      new Request(`${BASE}/auth/me`, { headers: bearer((await login(email)).access_token) }),
    );
    expect(viaCookie.status).toBe(200);
    expect(await viaCookie.json()).toEqual(await viaBearer.json());
  });
});

describe("CSRF", () => {
  it("refuses a cookie-authenticated POST without X-CSRF-Token: 403 csrf_failed, nothing changes", async () => {
    const session = await cookieLogin(await signupAndVerify());
    await expectError(await withCookie("POST", "/auth/logout-all", session, { csrf: null }), 403, "csrf_failed");
    expect((await withCookie("GET", "/auth/me", session)).status).toBe(200);
  });

  it("refuses a wrong token", async () => {
    const session = await cookieLogin(await signupAndVerify());
    const other = await cookieLogin(await signupAndVerify());
    await expectError(await withCookie("POST", "/auth/logout", session, { csrf: other.csrf }), 403, "csrf_failed");
    await expectError(await withCookie("POST", "/auth/logout", session, { csrf: "x".repeat(43) }), 403, "csrf_failed");
  });

  it("refuses a foreign Origin even with the right token", async () => {
    const session = await cookieLogin(await signupAndVerify());
    const response = await withCookie("POST", "/auth/logout", session, { origin: "https://evil.example" });
    await expectError(response, 403, "csrf_failed");
  });

  it("refuses a request with neither Origin nor a same-origin Sec-Fetch-Site", async () => {
    const session = await cookieLogin(await signupAndVerify());
    await expectError(await withCookie("POST", "/auth/logout", session, { origin: null }), 403, "csrf_failed");
    await expectError(
      await withCookie("POST", "/auth/logout", session, { origin: null, fetchSite: "cross-site" }),
      403,
      "csrf_failed",
    );
    expect(
      (await withCookie("POST", "/auth/session/token", session, { origin: null, fetchSite: "same-origin" })).status,
    ).toBe(200);
  });

  it("accepts the right token from our own origin, and from an allowed CORS origin", async () => {
    const session = await cookieLogin(await signupAndVerify());
    expect((await withCookie("POST", "/auth/session/token", session)).status).toBe(200);
    const allowed = { CORS_ALLOWED_ORIGINS: "https://app.example.com" };
    const fromApp = await sendWithEnv(
      allowed,
      new Request(`${BASE}/auth/session/token`, {
        method: "POST",
        headers: { Cookie: session.cookie, Origin: "https://app.example.com", "X-CSRF-Token": session.csrf },
      }),
    );
    expect(fromApp.status).toBe(200);
    expect(fromApp.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.com");
    expect(fromApp.headers.get("Access-Control-Allow-Credentials")).toBe("true");
  });

  it('refuses Origin "null" and Sec-Fetch-Site "none", even with the right token', async () => {
    const session = await cookieLogin(await signupAndVerify());
    await expectError(await withCookie("POST", "/auth/session/token", session, { origin: "null" }), 403, "csrf_failed");
    await expectError(
      await withCookie("POST", "/auth/session/token", session, { origin: null, fetchSite: "none" }),
      403,
      "csrf_failed",
    );
  });

  it("guards DELETE like POST", async () => {
    const session = await cookieLogin(await signupAndVerify());
    const listed = (await (await withCookie("GET", "/auth/sessions", session)).json()) as {
      sessions: { id: string }[];
    };
    const id = listed.sessions[0]?.id ?? "";
    await expectError(await withCookie("DELETE", `/auth/sessions/${id}`, session, { csrf: null }), 403, "csrf_failed");
    expect((await withCookie("GET", "/auth/me", session)).status).toBe(200);
  });

  it("needs no CSRF token for bearer-authenticated requests", async () => {
    const session = await newSession();
    const response = await send(
      new Request(`${BASE}/auth/logout`, {
        method: "POST",
        headers: { ...bearer(session.access_token), Origin: "https://evil.example" },
      }),
    );
    expect(response.status).toBe(204);
  });
});

describe("session lifetime", () => {
  async function setTimes(cookie: string, values: { last_seen_at?: number; expires_at?: number }) {
    const hash = await sha256Hex(cookie.split("=")[1] ?? "");
    if (values.last_seen_at !== undefined) {
      await env.DB.prepare("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?")
        .bind(values.last_seen_at, hash)
        .run();
    }
    if (values.expires_at !== undefined) {
      await env.DB.prepare("UPDATE sessions SET expires_at = ? WHERE token_hash = ?")
        .bind(values.expires_at, hash)
        .run();
    }
  }

  it("ends after 30 idle minutes, and clears the cookie", async () => {
    const session = await cookieLogin(await signupAndVerify());
    await setTimes(session.cookie, { last_seen_at: Date.now() - 29 * 60_000 });
    expect((await withCookie("GET", "/auth/me", session)).status).toBe(200);
    await setTimes(session.cookie, { last_seen_at: Date.now() - 31 * 60_000 });
    const response = await withCookie("GET", "/auth/me", session);
    await expectError(response, 401, "invalid_token");
    expect(response.headers.get("Set-Cookie")).toMatch(/__Host-edgelock_session=;.*Max-Age=0/);
  });

  it("slides: activity moves the idle deadline", async () => {
    const session = await cookieLogin(await signupAndVerify());
    await setTimes(session.cookie, { last_seen_at: Date.now() - 20 * 60_000 });
    await withCookie("GET", "/auth/me", session); // touches last_seen_at (more than a minute old)
    await waitForTouch(session.cookie);
    expect((await withCookie("GET", "/auth/me", session)).status).toBe(200);
  });

  it("ends at the absolute timeout whatever the activity", async () => {
    const session = await cookieLogin(await signupAndVerify());
    await setTimes(session.cookie, { expires_at: Date.now() - 1 });
    await expectError(await withCookie("GET", "/auth/me", session), 401, "invalid_token");
  });

  it("decides idle and absolute expiry from an injected clock", async () => {
    const { BrowserSessions } = await import("../../src/sessions/browser-sessions");
    const { SessionStore } = await import("../../src/sessions/session-store");
    const { RevocationWriter } = await import("../../src/sessions/revocation-store");
    const service = new BrowserSessions({
      store: new SessionStore(env.DB),
      revocation: new RevocationWriter(env.REVOCATIONS),
      timeouts: { idleMs: 1_000, absoluteMs: 5_000, rememberMeIdleMs: 10_000, rememberMeAbsoluteMs: 20_000 },
      accessTokenHorizonMs: 60_000,
    });
    const email = await signupAndVerify();
    const user = await env.DB.prepare("SELECT * FROM users WHERE email = ?").bind(email).first();
    const t0 = Date.now();
    // biome-ignore lint/suspicious/noExplicitAny: a D1 row standing in for UserRecord
    const auth = { user: user as any, amr: ["pwd"], authTime: t0 };
    const created = await service.create(auth, { rememberMe: false, ip: null, userAgent: null }, t0);
    expect(await service.resolve(created.cookieValue, t0 + 999)).not.toBeNull();
    expect(await service.resolve(created.cookieValue, t0 + 1_000)).toBeNull();
    await service.touch(created.sessionId, t0 + 900);
    expect(await service.resolve(created.cookieValue, t0 + 1_800)).not.toBeNull();
    for (let t = t0 + 1_800; t < t0 + 5_000; t += 800) await service.touch(created.sessionId, t);
    expect(await service.resolve(created.cookieValue, t0 + 5_000)).toBeNull();
  });
});

async function waitForTouch(cookie: string): Promise<void> {
  const hash = await sha256Hex(cookie.split("=")[1] ?? "");
  await vi.waitFor(async () => {
    const seen = await env.DB.prepare("SELECT last_seen_at FROM sessions WHERE token_hash = ?")
      .bind(hash)
      .first<number>("last_seen_at");
    expect(Date.now() - (seen ?? 0)).toBeLessThan(60_000);
  });
}

describe("logout", () => {
  it("deletes the session server-side and clears the cookie (Max-Age=0)", async () => {
    const session = await cookieLogin(await signupAndVerify());
    const response = await withCookie("POST", "/auth/logout", session);
    expect(response.status).toBe(204);
    expect(response.headers.get("Set-Cookie")).toMatch(/__Host-edgelock_session=;.*Max-Age=0/);
    await expectError(await withCookie("GET", "/auth/me", session), 401, "invalid_token");
  });

  it("ends a disabled user's cookie session", async () => {
    const email = await signupAndVerify();
    const session = await cookieLogin(email);
    await env.DB.prepare("UPDATE users SET disabled_at = ? WHERE email = ?").bind(Date.now(), email).run();
    await expectError(await withCookie("GET", "/auth/me", session), 401, "invalid_token");
  });

  it("logout-all through the cookie ends every session and clears the cookie", async () => {
    const email = await signupAndVerify();
    const session = await cookieLogin(email);
    const tokens = await login(email);
    const response = await withCookie("POST", "/auth/logout-all", session);
    expect(response.status).toBe(204);
    expect(response.headers.get("Set-Cookie")).toMatch(/Max-Age=0/);
    await expectError(await withCookie("GET", "/auth/me", session), 401, "invalid_token");
    await expectError(await postJson("/auth/refresh", { refresh_token: tokens.refresh_token }), 400, "invalid_grant");
  });

  it("a password change keeps remember me", async () => {
    const email = await signupAndVerify();
    const session = await cookieLogin(email, { remember_me: true });
    const response = await withCookie("POST", "/auth/password", session, {
      body: { current_password: PASSWORD, new_password: "another brand new password" },
    });
    expect(response.headers.get("Set-Cookie")).toMatch(/Max-Age=2592000/);
  });

  it("logout-all ends cookie sessions too", async () => {
    const email = await signupAndVerify();
    const cookie = await cookieLogin(email);
    const tokens = await login(email);
    expect(
      (await send(new Request(`${BASE}/auth/logout-all`, { method: "POST", headers: bearer(tokens.access_token) })))
        .status,
    ).toBe(204);
    await expectError(await withCookie("GET", "/auth/me", cookie), 401, "invalid_token");
  });

  it("a password change through the cookie ends other sessions and issues a new cookie", async () => {
    const email = await signupAndVerify();
    const session = await cookieLogin(email);
    const other = await cookieLogin(email);
    const response = await withCookie("POST", "/auth/password", session, {
      body: { current_password: PASSWORD, new_password: "a brand new password for me" },
    });
    expect(response.status).toBe(200);
    const fresh = /^(__Host-edgelock_session=[^;]+)/.exec(response.headers.get("Set-Cookie") ?? "")?.[1] ?? "";
    expect(fresh).not.toBe(session.cookie);
    const { csrf_token } = (await response.json()) as { csrf_token: string };
    expect((await withCookie("GET", "/auth/me", { cookie: fresh, csrf: csrf_token })).status).toBe(200);
    await expectError(await withCookie("GET", "/auth/me", session), 401, "invalid_token");
    await expectError(await withCookie("GET", "/auth/me", other), 401, "invalid_token");
  });
});

describe("the hybrid pattern", () => {
  it("POST /auth/session/token mints a short-lived access token tied to the cookie session", async () => {
    const session = await cookieLogin(await signupAndVerify());
    const response = await withCookie("POST", "/auth/session/token", session);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 600 });
    expect(body).not.toHaveProperty("refresh_token");
    expect((await send(new Request(`${BASE}/auth/me`, { headers: bearer(body.access_token) }))).status).toBe(200);
    // Ending the cookie session revokes what it minted.
    await withCookie("POST", "/auth/logout", session);
    await expectError(
      await send(new Request(`${BASE}/auth/me`, { headers: bearer(body.access_token) })),
      401,
      "invalid_token",
    );
  });

  it("GET /auth/session gives the CSRF token back after a page reload; bearer callers have no cookie session", async () => {
    const session = await cookieLogin(await signupAndVerify());
    const response = await withCookie("GET", "/auth/session", session, { origin: null, csrf: null });
    expect(await response.json()).toMatchObject({ csrf_token: session.csrf });
    const tokens = await newSession();
    await expectError(
      await send(new Request(`${BASE}/auth/session`, { headers: bearer(tokens.access_token) })),
      400,
      "invalid_request",
    );
    await expectError(
      await send(new Request(`${BASE}/auth/session/token`, { method: "POST", headers: bearer(tokens.access_token) })),
      400,
      "invalid_request",
    );
  });
});

describe("GET and DELETE /auth/sessions", () => {
  it("lists cookie sessions and refresh-token families alike, marking the current one", async () => {
    const email = await signupAndVerify();
    const cookie = await cookieLogin(email);
    const tokens = await login(email);
    const response = await send(
      new Request(`${BASE}/auth/sessions`, { headers: { ...bearer(tokens.access_token), "User-Agent": "T" } }),
    );
    const { sessions } = (await response.json()) as {
      sessions: { id: string; kind: string; current: boolean; ip: string | null }[];
    };
    expect(sessions.map((s) => s.kind).sort()).toEqual(["cookie", "refresh"]);
    expect(sessions.filter((s) => s.current).map((s) => s.kind)).toEqual(["refresh"]);
    const viaCookie = await withCookie("GET", "/auth/sessions", cookie);
    const listed = (await viaCookie.json()) as { sessions: { kind: string; current: boolean }[] };
    expect(listed.sessions.filter((s) => s.current).map((s) => s.kind)).toEqual(["cookie"]);
    for (const s of sessions)
      expect(s).toEqual(expect.objectContaining({ created_at: expect.any(String), last_seen_at: expect.any(String) }));
  });

  it("revokes a refresh-token family: its refresh token and its access tokens stop working", async () => {
    const email = await signupAndVerify();
    const victim = await login(email);
    const me = await login(email);
    const { sessions } = (await (
      await send(new Request(`${BASE}/auth/sessions`, { headers: bearer(me.access_token) }))
    ).json()) as {
      sessions: { id: string; current: boolean }[];
    };
    const target = sessions.find((s) => !s.current);
    const response = await send(
      new Request(`${BASE}/auth/sessions/${target?.id}`, { method: "DELETE", headers: bearer(me.access_token) }),
    );
    expect(response.status).toBe(204);
    await expectError(await postJson("/auth/refresh", { refresh_token: victim.refresh_token }), 400, "invalid_grant");
    await expectError(
      await send(new Request(`${BASE}/auth/me`, { headers: bearer(victim.access_token) })),
      401,
      "invalid_token",
    );
    expect((await send(new Request(`${BASE}/auth/me`, { headers: bearer(me.access_token) }))).status).toBe(200);
  });

  it("refuses a revoked family's refresh token at once, from D1, even before KV agrees", async () => {
    const email = await signupAndVerify();
    const tokens = await login(email);
    const claims = JSON.parse(
      atob((tokens.access_token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/")),
    ) as { sid: string };
    // Only the strongly consistent D1 row says revoked (as at a location KV has not reached yet).
    await env.DB.prepare("UPDATE sessions SET revoked_at = ? WHERE id = ?").bind(Date.now(), claims.sid).run();
    await expectError(await postJson("/auth/refresh", { refresh_token: tokens.refresh_token }), 400, "invalid_grant");
    const listed = (await (
      await send(new Request(`${BASE}/auth/sessions`, { headers: bearer((await login(email)).access_token) }))
    ).json()) as {
      sessions: { id: string }[];
    };
    expect(listed.sessions.map((s) => s.id)).not.toContain(claims.sid);
  });

  it("revokes a cookie session: its cookie stops working", async () => {
    const email = await signupAndVerify();
    const cookie = await cookieLogin(email);
    const tokens = await login(email);
    const { sessions } = (await (
      await send(new Request(`${BASE}/auth/sessions`, { headers: bearer(tokens.access_token) }))
    ).json()) as {
      sessions: { id: string; kind: string }[];
    };
    const target = sessions.find((s) => s.kind === "cookie");
    expect(
      (
        await send(
          new Request(`${BASE}/auth/sessions/${target?.id}`, {
            method: "DELETE",
            headers: bearer(tokens.access_token),
          }),
        )
      ).status,
    ).toBe(204);
    await expectError(await withCookie("GET", "/auth/me", cookie), 401, "invalid_token");
  });

  it("answers 404 for another user's session id, and leaves it alone", async () => {
    const mine: TokenResponse = await newSession();
    const theirs = await newSession();
    const { sessions } = (await (
      await send(new Request(`${BASE}/auth/sessions`, { headers: bearer(theirs.access_token) }))
    ).json()) as {
      sessions: { id: string }[];
    };
    const response = await send(
      new Request(`${BASE}/auth/sessions/${sessions[0]?.id}`, { method: "DELETE", headers: bearer(mine.access_token) }),
    );
    await expectError(response, 404, "not_found");
    expect((await postJson("/auth/refresh", { refresh_token: theirs.refresh_token })).status).toBe(200);
    await expectError(
      await send(
        new Request(`${BASE}/auth/sessions/unknown-id`, { method: "DELETE", headers: bearer(mine.access_token) }),
      ),
      404,
      "not_found",
    );
  });
});
