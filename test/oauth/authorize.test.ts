import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, bearer, login, PASSWORD, send, signupAndVerify } from "../helpers";
import { exchange, loginAndConsent, newPublicClient, REDIRECT, startFlow } from "./flow";
import { createClient, pageFields, TestBrowser } from "./oauth-helpers";

async function page(url: string) {
  const response = await new TestBrowser().get(url);
  return { response, text: await response.text() };
}

describe("the authorization endpoint refuses bad requests", () => {
  it("shows a local page for an unknown client or a missing client_id, never redirecting", async () => {
    for (const query of ["client_id=nope&response_type=code&redirect_uri=https://a.example/cb", "response_type=code"]) {
      const { response, text } = await page(`${BASE}/oauth/authorize?${query}`);
      expect(response.status).toBe(400);
      expect(response.headers.get("Location")).toBeNull();
      expect(text).toContain("cannot continue");
      expect(response.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
    }
  });

  it("shows a local page for a repeated parameter", async () => {
    const client = await newPublicClient();
    const flow = await startFlow(client);
    const { response } = await page(`${flow.url.toString()}&scope=openid`);
    expect(response.status).toBe(400);
    expect(response.headers.get("Location")).toBeNull();
  });

  it("matches loopback redirect URIs on any port, and nothing else loosely", async () => {
    const client = await newPublicClient();
    const flow = await startFlow(client);
    for (const uri of [
      "http://127.0.0.1:48123/callback/",
      "http://127.0.0.1:48123/Callback",
      "http://localhost:48123/callback",
    ]) {
      flow.url.searchParams.set("redirect_uri", uri);
      const { response } = await page(flow.url.toString());
      expect(response.status).toBe(400);
    }
    flow.url.searchParams.set("redirect_uri", "http://127.0.0.1:5555/callback");
    expect((await page(flow.url.toString())).response.status).toBe(200);
  });

  it("redirects other errors with state and iss: scope, resource, prompt, max_age", async () => {
    const client = await newPublicClient();
    const cases: [Record<string, string>, string][] = [
      [{ scope: "openid admin:everything" }, "invalid_scope"],
      [{ resource: "https://elsewhere.example" }, "invalid_target"],
      [{ prompt: "none login" }, "invalid_request"],
      [{ max_age: "-1" }, "invalid_request"],
      [{ code_challenge: "short" }, "invalid_request"],
    ];
    for (const [extra, error] of cases) {
      const flow = await startFlow(client, extra);
      const response = await new TestBrowser().get(flow.url.toString());
      expect(response.status).toBe(302);
      const location = new URL(response.headers.get("Location") as string);
      expect(location.origin + location.pathname).toBe("http://127.0.0.1:48123/callback");
      expect(Object.fromEntries(location.searchParams)).toMatchObject({
        error,
        state: flow.state,
        iss: "https://auth.test",
      });
    }
  });

  it("refuses a client not registered for the code grant with unauthorized_client", async () => {
    const client = await createClient({
      redirect_uris: [REDIRECT],
      grant_types: ["client_credentials"],
      scope: "posts:read",
    });
    const flow = await startFlow(client, { scope: "posts:read" });
    const response = await new TestBrowser().get(flow.url.toString());
    expect(new URL(response.headers.get("Location") as string).searchParams.get("error")).toBe("unauthorized_client");
  });
});

describe("the hosted pages", () => {
  it("answers a wrong password on the page itself, generically, and counts it", async () => {
    const email = await signupAndVerify();
    const flow = await startFlow(await newPublicClient());
    const browser = new TestBrowser();
    const { interaction } = pageFields(await (await browser.get(flow.url.toString())).text());
    const wrong = await browser.submit(`/oauth/interaction/${interaction}/login`, {
      email,
      password: "wrong password here",
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain("The email or password is incorrect.");
    expect(browser.cookie).toBeNull();
    const audit = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM audit_log WHERE event = 'login_failed' AND user_id = (SELECT id FROM users WHERE email = ?)",
    )
      .bind(email)
      .first<{ n: number }>();
    expect(audit?.n).toBe(1);
  });

  it("refuses a login form posted from another site", async () => {
    const email = await signupAndVerify();
    const flow = await startFlow(await newPublicClient());
    const browser = new TestBrowser();
    const { interaction } = pageFields(await (await browser.get(flow.url.toString())).text());
    const forged = await browser.submit(
      `/oauth/interaction/${interaction}/login`,
      { email, password: PASSWORD },
      "https://evil.example",
    );
    expect(forged.status).toBe(403);
    expect(browser.cookie).toBeNull();
  });

  it("refuses a consent without the session's CSRF token, and changes nothing", async () => {
    const email = await signupAndVerify();
    const client = await newPublicClient();
    const flow = await startFlow(client);
    const browser = new TestBrowser();
    const { interaction } = pageFields(await (await browser.get(flow.url.toString())).text());
    await browser.submit(`/oauth/interaction/${interaction}/login`, { email, password: PASSWORD });
    const forged = await browser.submit(`/oauth/interaction/${interaction}/consent`, {
      csrf_token: "x",
      decision: "allow",
    });
    expect(forged.status).toBe(403);
    expect(forged.headers.get("Location")).toBeNull();
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM oauth_consents WHERE client_id = ?")
      .bind(client.client_id)
      .first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  it("sets a strict CSP whose form-action allows the client's origin on the consent page only", async () => {
    const email = await signupAndVerify();
    const flow = await startFlow(await newPublicClient());
    const browser = new TestBrowser();
    const loginPage = await browser.get(flow.url.toString());
    expect(loginPage.headers.get("Content-Security-Policy")).toMatch(/form-action 'self';/);
    const { interaction } = pageFields(await loginPage.text());
    const loggedIn = await browser.submit(`/oauth/interaction/${interaction}/login`, { email, password: PASSWORD });
    const consent = await browser.get(loggedIn.headers.get("Location") as string);
    expect(consent.headers.get("Content-Security-Policy")).toMatch(/form-action 'self' http:\/\/127\.0\.0\.1:48123;/);
    expect(consent.headers.get("Content-Security-Policy")).toContain("script-src 'none'");
    expect(await consent.text()).toContain("See your email address");
  });

  it("says an expired or finished interaction cannot continue", async () => {
    const { response } = await page(`${BASE}/oauth/interaction/${"A".repeat(43)}`);
    expect(response.status).toBe(400);
  });

  it("skips consent for a first-party client", async () => {
    const email = await signupAndVerify();
    const client = await newPublicClient({ first_party: true });
    const flow = await startFlow(client);
    const browser = new TestBrowser();
    const { interaction } = pageFields(await (await browser.get(flow.url.toString())).text());
    const loggedIn = await browser.submit(`/oauth/interaction/${interaction}/login`, { email, password: PASSWORD });
    const next = await browser.get(loggedIn.headers.get("Location") as string);
    expect(next.status).toBe(302);
    await exchange(flow, new URL(next.headers.get("Location") as string));
  });

  it("drops permission scopes the user does not hold", async () => {
    const email = await signupAndVerify();
    const client = await newPublicClient({ scope: "openid posts:read users:write" });
    const flow = await startFlow(client, { scope: "openid users:write" });
    const tokens = await exchange(flow, await loginAndConsent(new TestBrowser(), flow, email));
    expect(tokens.scope).toBe("openid");
  });
});

describe("consents and logout", () => {
  it("lists the user's consents and withdraws one, ending the client's refresh tokens", async () => {
    const email = await signupAndVerify();
    const client = await newPublicClient();
    const flow = await startFlow(client);
    const tokens = await exchange(flow, await loginAndConsent(new TestBrowser(), flow, email));
    const own = await login(email);
    const listed = await send(new Request(`${BASE}/auth/consents`, { headers: bearer(own.access_token) }));
    expect(await listed.json()).toMatchObject({
      consents: [{ client_id: client.client_id, client_name: "Notes app" }],
    });
    const sessions = (await (
      await send(new Request(`${BASE}/auth/sessions`, { headers: bearer(own.access_token) }))
    ).json()) as {
      sessions: { client_id?: string }[];
    };
    expect(sessions.sessions.some((s) => s.client_id === client.client_id)).toBe(true);
    const withdraw = await send(
      new Request(`${BASE}/auth/consents/${client.client_id}`, { method: "DELETE", headers: bearer(own.access_token) }),
    );
    expect(withdraw.status).toBe(204);
    const refresh = await send(
      new Request(`${BASE}/oauth/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "refresh_token",
          refresh_token: tokens.refresh_token as string,
          client_id: client.client_id,
        }),
      }),
    );
    expect(refresh.status).toBe(400);
    const again = await send(
      new Request(`${BASE}/auth/consents/${client.client_id}`, { method: "DELETE", headers: bearer(own.access_token) }),
    );
    expect(again.status).toBe(404);
  });

  it("ends the browser session at once with a matching id_token_hint, then redirects with state", async () => {
    const email = await signupAndVerify();
    const client = await newPublicClient({ post_logout_redirect_uris: ["http://127.0.0.1:48123/bye"] });
    const browser = new TestBrowser();
    const flow = await startFlow(client);
    const tokens = await exchange(flow, await loginAndConsent(browser, flow, email));
    const query = new URLSearchParams({
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: "http://127.0.0.1:48123/bye",
      state: "s1",
    });
    const response = await browser.get(`/oauth/logout?${query}`);
    expect(response.status).toBe(302);
    expect(response.headers.get("Location")).toBe("http://127.0.0.1:48123/bye?state=s1");
    expect(browser.cookie).toBeNull();
    const prompt = await startFlow(client, { prompt: "none" });
    const after = await browser.get(prompt.url.toString());
    expect(new URL(after.headers.get("Location") as string).searchParams.get("error")).toBe("login_required");
  });

  it("asks before logging out without a hint, and refuses unregistered redirect targets", async () => {
    const email = await signupAndVerify();
    const client = await newPublicClient();
    const browser = new TestBrowser();
    const flow = await startFlow(client);
    await loginAndConsent(browser, flow, email);
    const ask = await browser.get("/oauth/logout");
    expect(ask.status).toBe(200);
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(await ask.text())?.[1] as string;
    const cross = await browser.submit("/oauth/logout", { csrf_token: csrf }, "https://evil.example");
    expect(cross.status).toBe(403);
    expect(browser.cookie).not.toBeNull();
    const bad = await browser.get(
      `/oauth/logout?client_id=${client.client_id}&post_logout_redirect_uri=https://evil.example/`,
    );
    expect(bad.status).toBe(400);
    expect(bad.headers.get("Location")).toBeNull();
    const done = await browser.submit("/oauth/logout", { csrf_token: csrf });
    expect(done.status).toBe(200);
    expect(browser.cookie).toBeNull();
  });
});
