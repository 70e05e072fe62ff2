// The hosted /device page (RFC 8628 §3.3, §5.4) through TestBrowser: code
// entry (prefilled from verification_uri_complete, forgiving about case,
// dashes and spaces), the hosted login and its MFA step on the same
// interaction, the confirmation and its answer, and what is refused: wrong
// codes (one answer for all), cross-site posts, stale forms, too many codes.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BASE, PASSWORD, randomIp, sendWithEnv, signupAndVerify } from "../helpers";
import { codeFor, newMfaUser } from "../mfa/support";
import {
  answerOnDevicePage,
  confirmationOf,
  deviceRow,
  enterCode,
  logInOnDevicePage,
  newDeviceClient,
  poll,
  pollResult,
  startDevice,
} from "./device-flow";
import { pageFields, TestBrowser } from "./oauth-helpers";

afterEach(() => {
  vi.useRealTimers();
});

const WRONG = "That code is not right, or it has expired.";

function expectStrictPage(response: Response): void {
  const csp = response.headers.get("Content-Security-Policy") ?? "";
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'none'");
  expect(csp).toContain("form-action 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(response.headers.get("Cache-Control")).toBe("no-store");
}

async function interactionCount(): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT COUNT(*) AS n FROM one_time_secrets WHERE purpose = 'oauth_interaction'",
  ).first<{ n: number }>();
  return row?.n ?? 0;
}

describe("GET /device", () => {
  it("asks for the code with a labelled field, on a strict page with nothing external", async () => {
    const response = await new TestBrowser().get("/device");
    expect(response.status).toBe(200);
    expectStrictPage(response);
    const html = await response.text();
    expect(html).toContain('<label for="user_code">Code</label>');
    expect(html).toContain('<form method="post" action="/device">');
    expect(html).not.toMatch(/(src|href)="https?:/);
  });

  it("fills in the code from verification_uri_complete, escaped", async () => {
    const client = await newDeviceClient();
    const started = await startDevice(client.client_id);
    const page = await new TestBrowser().get(started.verification_uri_complete);
    expect(await page.text()).toContain(`value="${started.user_code}"`);
    const hostile = await new TestBrowser().get(`/device?user_code=${encodeURIComponent('"><script>x()</script>')}`);
    const html = await hostile.text();
    expect(html).not.toContain("<script>");
    expect(html).toContain("&#34;&#62;&#60;script&#62;");
  });
});

describe("POST /device and the confirmation", () => {
  it("takes the code in any case, without the dash, with spaces; logs in; names the client, the scopes and the code", async () => {
    const email = await signupAndVerify();
    const client = await newDeviceClient({ client_name: "Living room TV" });
    const started = await startDevice(client.client_id);
    const browser = new TestBrowser();
    const typed = ` ${started.user_code
      .replace("-", "")
      .toLowerCase()
      .replace(/(....)/, "$1 ")} `;
    const location = await enterCode(browser, typed);
    expect(location).toMatch(/^\/oauth\/interaction\/[A-Za-z0-9_-]{43}$/);
    const login = await browser.get(location);
    expectStrictPage(login);
    const loginHtml = await login.text();
    expect(loginHtml).toContain("Living room TV");
    expect(loginHtml).toContain('name="password"');
    const { interaction } = pageFields(loginHtml);
    const loggedIn = await browser.submit(`/oauth/interaction/${interaction}/login`, { email, password: PASSWORD });
    expect(loggedIn.status).toBe(303);
    const confirm = await browser.get(loggedIn.headers.get("Location") as string);
    expect(confirm.status).toBe(200);
    expectStrictPage(confirm);
    const html = await confirm.text();
    expect(html).toContain("Connect Living room TV to your account?");
    expect(html).toContain(`<p class="code" id="user_code">${started.user_code}</p>`);
    expect(html).toContain("See your email address");
    expect(html).toContain("Stay signed in when you are not using it");
    expect(html).toContain("Did you start this yourself, on your own device?");
    expect(html).toContain(`Signed in as ${email}`);
    const fields = pageFields(html);
    const answered = await browser.submit(`/oauth/interaction/${fields.interaction}/device`, {
      csrf_token: fields.csrf as string,
      decision: "approve",
    });
    expect(answered.status).toBe(200);
    expect(await answered.text()).toContain("Device connected");
    expect(await pollResult(await poll(client.client_id, started.device_code))).toBe("tokens");
  });

  it("goes straight to the confirmation when the browser is logged in", async () => {
    const email = await signupAndVerify();
    const client = await newDeviceClient();
    const browser = new TestBrowser();
    const first = await startDevice(client.client_id);
    expect((await answerOnDevicePage(browser, first.user_code, email)).status).toBe(200);
    const second = await startDevice(client.client_id);
    const { html } = await confirmationOf(browser, await enterCode(browser, second.user_code));
    expect(html).toContain(second.user_code);
  });

  it("asks a user with two-step login on for the code between login and confirmation", async () => {
    const user = await newMfaUser();
    const client = await newDeviceClient();
    const started = await startDevice(client.client_id);
    const browser = new TestBrowser();
    const login = await browser.get(await enterCode(browser, started.user_code));
    const { interaction } = pageFields(await login.text());
    const mfa = await browser.submit(`/oauth/interaction/${interaction}/login`, {
      email: user.email,
      password: PASSWORD,
    });
    expect(mfa.status).toBe(200);
    const mfaHtml = await mfa.text();
    expect(mfaHtml).toContain("Two-step login");
    const mfaToken = /name="mfa_token" value="([^"]+)"/.exec(mfaHtml)?.[1] as string;
    const done = await browser.submit(`/oauth/interaction/${interaction}/mfa`, {
      mfa_token: mfaToken,
      code: await codeFor(user.secret),
    });
    expect(done.status).toBe(303);
    const fields = await confirmationOf(browser, done.headers.get("Location") as string);
    await browser.submit(`/oauth/interaction/${fields.interaction}/device`, {
      csrf_token: fields.csrf as string,
      decision: "approve",
    });
    const tokens = await (await poll(client.client_id, started.device_code)).json<{ access_token: string }>();
    const claims = JSON.parse(
      atob((tokens.access_token.split(".")[1] as string).replace(/-/g, "+").replace(/_/g, "/")),
    );
    expect(claims.amr).toEqual(["pwd", "otp", "mfa"]);
  });

  it("denies: the page says so and the client's poll is access_denied", async () => {
    const email = await signupAndVerify();
    const client = await newDeviceClient();
    const started = await startDevice(client.client_id);
    const answered = await answerOnDevicePage(new TestBrowser(), started.user_code, email, "deny");
    expect(answered.status).toBe(200);
    expect(await answered.text()).toContain("Request denied");
    expect(await pollResult(await poll(client.client_id, started.device_code))).toBe("access_denied");
  });

  it("gives one answer to every code that names no pending request, and starts nothing", async () => {
    const email = await signupAndVerify();
    const client = await newDeviceClient();
    const answeredCode = (await startDevice(client.client_id)).user_code;
    await answerOnDevicePage(new TestBrowser(), answeredCode, email);
    const before = await interactionCount();
    const bodies = new Set<string>();
    for (const typed of ["BCDF-GHJK", "AAAA-AAAA", "BCD", "", "x".repeat(500), answeredCode]) {
      const response = await new TestBrowser().submit("/device", { user_code: typed });
      expect(response.status).toBe(400);
      const html = await response.text();
      expect(html).toContain(WRONG);
      bodies.add(html.replace(/value="[^"]*"/, ""));
    }
    expect(bodies.size).toBe(1);
    expect(await interactionCount()).toBe(before);
  });

  it("answers an expired code the same way", async () => {
    const client = await newDeviceClient();
    const started = await startDevice(client.client_id);
    await env.DB.prepare("UPDATE device_authorizations SET expires_at = ? WHERE user_code = ?")
      .bind(Date.now() - 1, started.user_code.replace("-", ""))
      .run();
    const response = await new TestBrowser().submit("/device", { user_code: started.user_code });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain(WRONG);
  });

  it("refuses a cross-site post of a code, or of an answer, and changes nothing", async () => {
    const email = await signupAndVerify();
    const client = await newDeviceClient();
    const started = await startDevice(client.client_id);
    const browser = new TestBrowser();
    const before = await interactionCount();
    const crossSite = await browser.submit("/device", { user_code: started.user_code }, "https://evil.example");
    expect(crossSite.status).toBe(403);
    expect(await crossSite.text()).toContain("csrf_failed");
    expect(await interactionCount()).toBe(before);
    const fields = await logInOnDevicePage(browser, await enterCode(browser, started.user_code), email);
    const answer = { csrf_token: fields.csrf as string, decision: "approve" };
    const forged = await browser.submit(
      `/oauth/interaction/${fields.interaction}/device`,
      answer,
      "https://evil.example",
    );
    expect(forged.status).toBe(403);
    expect((await deviceRow(started.user_code))?.status).toBe("pending");
  });

  it("refuses an answer without the session's CSRF token or with no decision, then takes one answer only", async () => {
    const email = await signupAndVerify();
    const client = await newDeviceClient();
    const started = await startDevice(client.client_id);
    const browser = new TestBrowser();
    const fields = await logInOnDevicePage(browser, await enterCode(browser, started.user_code), email);
    const path = `/oauth/interaction/${fields.interaction}/device`;
    const stale = await browser.submit(path, { csrf_token: "not-the-token", decision: "approve" });
    expect(stale.status).toBe(403);
    expect(await stale.text()).toContain("csrf_failed");
    const undecided = await browser.submit(path, { csrf_token: fields.csrf as string, decision: "maybe" });
    expect(undecided.status).toBe(400);
    expect(await undecided.text()).toContain("invalid_request");
    expect((await deviceRow(started.user_code))?.status).toBe("pending");
    const anonymous = await new TestBrowser().submit(path, { csrf_token: fields.csrf as string, decision: "approve" });
    expect(anonymous.status).toBe(303);
    expect((await deviceRow(started.user_code))?.status).toBe("pending");

    const approved = await browser.submit(path, { csrf_token: fields.csrf as string, decision: "approve" });
    expect(approved.status).toBe(200);
    const again = await browser.submit(path, { csrf_token: fields.csrf as string, decision: "deny" });
    expect(again.status).toBe(400);
    expect((await deviceRow(started.user_code))?.status).toBe("approved");
    // The consent form of the authorize flow takes no device interaction.
    const consent = await browser.submit(`/oauth/interaction/${fields.interaction}/consent`, {
      csrf_token: fields.csrf as string,
      decision: "allow",
    });
    expect(consent.status).toBe(400);
  });
});

describe("code entry limits", () => {
  const limited = { RATE_LIMIT_DEVICE_CODE_PER_IP: "3" };

  function entry(ip: string, userCode: string, cookie?: string) {
    return sendWithEnv(
      limited,
      new Request(`${BASE}/device`, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Origin: BASE,
          "CF-Connecting-IP": ip,
          ...(cookie ? { Cookie: cookie } : {}),
        },
        body: new URLSearchParams({ user_code: userCode }),
      }),
    );
  }

  it("limits codes entered per IP: 429 with Retry-After, even for a right code", async () => {
    const client = await newDeviceClient();
    const started = await startDevice(client.client_id);
    const ip = randomIp();
    for (let i = 0; i < 3; i++) expect((await entry(ip, "BCDF-GHJK")).status).toBe(400);
    const refused = await entry(ip, started.user_code);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await refused.text()).toContain("Too many codes entered");
    expect((await entry(randomIp(), started.user_code)).status).toBe(303);
  });

  it("limits codes entered per signed-in account, from any IP", async () => {
    const email = await signupAndVerify();
    const client = await newDeviceClient();
    const browser = new TestBrowser();
    await answerOnDevicePage(browser, (await startDevice(client.client_id)).user_code, email);
    const cookie = browser.cookie as string;
    for (let i = 0; i < 3; i++) expect((await entry(randomIp(), "BCDF-GHJK", cookie)).status).toBe(400);
    const refused = await entry(randomIp(), (await startDevice(client.client_id)).user_code, cookie);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("Retry-After")).toBeTruthy();
  });
});
