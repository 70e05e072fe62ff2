// Regression tests for the security review of the OAuth provider, the
// browser side: where the authorization endpoint, its hosted pages and
// logout may send a browser. Each test fails if its fix is reverted.
// (The grant and token side is in hardening.test.ts.)
import * as oauth from "oauth4webapi";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BASE, bearer, expectError, PASSWORD, postJson, send, signupAndVerify } from "../helpers";
import { exchange, loginAndConsent, newPublicClient, REDIRECT, startFlow } from "./flow";
import { adminAccessToken, authorizationServer, pageFields, TestBrowser, viaWorker } from "./oauth-helpers";

afterEach(() => {
  vi.useRealTimers();
});

const admin = async (method: string, path: string, body?: unknown) =>
  send(
    new Request(`${BASE}${path}`, {
      method,
      headers: { "Content-Type": "application/json", ...bearer(await adminAccessToken()) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );

/** A local page of ours: a 400 in HTML, no redirect anywhere. */
async function expectLocalPage(response: Response) {
  expect(response.status).toBe(400);
  expect(response.headers.get("Location")).toBeNull();
  expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
  return response.text();
}

/** A browser logged in through the hosted pages (of another client); its session's CSRF token, from the consent page. */
async function loggedInBrowser(email: string) {
  const browser = new TestBrowser();
  const warmup = await startFlow(await newPublicClient());
  const { interaction } = pageFields(await (await browser.get(warmup.url.toString())).text());
  const loggedIn = await browser.submit(`/oauth/interaction/${interaction}/login`, { email, password: PASSWORD });
  const consent = pageFields(await (await browser.get(loggedIn.headers.get("Location") as string)).text());
  return { browser, csrf: consent.csrf as string };
}

/** After a login's 303 back to the interaction: allows on the consent page; answers the redirect to the client. */
async function allowAfterLogin(browser: TestBrowser, loggedIn: Response): Promise<URL> {
  const page = await browser.get(loggedIn.headers.get("Location") as string);
  expect(page.status).toBe(200);
  const fields = pageFields(await page.text());
  const answered = await browser.submit(`/oauth/interaction/${fields.interaction}/consent`, {
    csrf_token: fields.csrf as string,
    decision: "allow",
  });
  expect(answered.status).toBe(303);
  return new URL(answered.headers.get("Location") as string);
}

describe("the consent form re-checks the login", () => {
  it("answers a consent posted with a login too old for prompt=login or max_age with the login page", async () => {
    const email = await signupAndVerify();
    const { browser, csrf } = await loggedInBrowser(email);

    // prompt=login: the page asks for a login; posting the consent form instead does not skip it.
    const client = await newPublicClient();
    const forced = await startFlow(client, { prompt: "login" });
    const loginPage = await browser.get(forced.url.toString());
    expect(loginPage.status).toBe(200);
    const { interaction } = pageFields(await loginPage.text());
    const skipped = await browser.submit(`/oauth/interaction/${interaction}/consent`, {
      csrf_token: csrf,
      decision: "allow",
    });
    expect(skipped.status).toBe(200);
    expect(skipped.headers.get("Location")).toBeNull();
    expect(await skipped.text()).toContain('name="password"');

    // max_age: fresh enough when the consent page was shown, not any more when it is answered.
    const other = await newPublicClient();
    const aged = await startFlow(other, { max_age: "60" });
    const consentPage = await browser.get(aged.url.toString());
    expect(consentPage.status).toBe(200);
    const consent = pageFields(await consentPage.text());
    expect(consent.csrf).toBe(csrf);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 120_000);
    const late = await browser.submit(`/oauth/interaction/${consent.interaction}/consent`, {
      csrf_token: csrf,
      decision: "allow",
    });
    expect(late.status).toBe(200);
    expect(late.headers.get("Location")).toBeNull();
    expect(await late.text()).toContain('name="password"');

    // Logging in again on that page completes the same request.
    const again = await browser.submit(`/oauth/interaction/${consent.interaction}/login`, {
      email,
      password: PASSWORD,
    });
    expect(again.status).toBe(303);
    const callback = await allowAfterLogin(browser, again);
    expect(callback.searchParams.get("code")).toBeTruthy();
  });
});

describe("loopback redirect URIs", () => {
  it("refuses a port above 65535, at registration and at the authorization endpoint", async () => {
    const token = bearer(await adminAccessToken());
    for (const uri of ["http://127.0.0.1:99999/callback", "http://localhost:65536/callback"]) {
      await expectError(await postJson("/admin/clients", { redirect_uris: [uri] }, token), 400, "invalid_redirect_uri");
      await expectError(await postJson("/oauth/register", { redirect_uris: [uri] }), 400, "invalid_redirect_uri");
    }
    const client = await newPublicClient();
    const flow = await startFlow(client, { redirect_uri: "http://127.0.0.1:99999/callback" });
    await expectLocalPage(await new TestBrowser().get(flow.url.toString()));
    // The highest real port still matches "any port".
    const highest = await startFlow(client, { redirect_uri: "http://127.0.0.1:65535/callback" });
    expect((await new TestBrowser().get(highest.url.toString())).status).toBe(200);
  });
});

describe("a self-registered client's authorization errors (RFC 9700 §4.11.2)", () => {
  it("stay on a local page while the browser has no session here", async () => {
    const as = await authorizationServer();
    const registered = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        { redirect_uris: [REDIRECT], token_endpoint_auth_method: "none", grant_types: ["authorization_code"] },
        viaWorker,
      ),
    );
    const client = { client_id: registered.client_id };
    const unregistered = await startFlow(client, { redirect_uri: "https://attacker.example/cb" });
    await expectLocalPage(await new TestBrowser().get(unregistered.url.toString()));
    const badRequests: Record<string, string>[] = [
      { scope: "openid posts:read" },
      { code_challenge: "short" },
      { response_type: "token" },
      { prompt: "none" },
    ];
    for (const extra of badRequests) {
      const flow = await startFlow(client, extra);
      const text = await expectLocalPage(await new TestBrowser().get(flow.url.toString()));
      expect(text).not.toContain(flow.state);
    }
    // Once a user has logged in here, errors go back to the client as usual.
    const email = await signupAndVerify();
    const { browser } = await loggedInBrowser(email);
    const flow = await startFlow(client, { code_challenge: "short" });
    const response = await browser.get(flow.url.toString());
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("Location") as string);
    expect(location.origin + location.pathname).toBe(REDIRECT);
    expect(location.searchParams.get("error")).toBe("invalid_request");
  });
});

describe("RP-initiated logout", () => {
  const BYE = "http://127.0.0.1:48123/bye";

  it("follows post_logout_redirect_uri only with an id_token_hint of that client, and keeps a POST's parameters", async () => {
    const email = await signupAndVerify();
    const client = await newPublicClient({ post_logout_redirect_uris: [BYE] });

    // No hint, no session: logged out, but not bounced to the URI (anyone can name a client).
    const unproven = new URLSearchParams({ client_id: client.client_id, post_logout_redirect_uri: BYE, state: "s0" });
    const noHint = await new TestBrowser().get(`/oauth/logout?${unproven}`);
    expect(noHint.status).toBe(200);
    expect(noHint.headers.get("Location")).toBeNull();
    expect(await noHint.text()).toContain("You are logged out");

    // A hint from the client, for this browser's user: at once, to the URI.
    const browser = new TestBrowser();
    const flow = await startFlow(client);
    const tokens = await exchange(flow, await loginAndConsent(browser, flow, email));
    const proven = new URLSearchParams({
      id_token_hint: tokens.id_token as string,
      post_logout_redirect_uri: BYE,
      state: "s1",
    });
    const withHint = await browser.get(`/oauth/logout?${proven}`);
    expect(withHint.status).toBe(302);
    expect(withHint.headers.get("Location")).toBe(`${BYE}?state=s1`);

    // Sent as a form post, for a browser where another user is logged in: asked first, and
    // the confirmation carries the request's parameters, so it still ends at the URI.
    const other = await loggedInBrowser(await signupAndVerify());
    const ask = await other.browser.submit("/oauth/logout", Object.fromEntries(proven));
    expect(ask.status).toBe(200);
    const html = await ask.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1]?.replace(/&#38;|&amp;/g, "&") as string;
    expect(new URL(action, BASE).searchParams.get("post_logout_redirect_uri")).toBe(BYE);
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(html)?.[1] as string;
    const confirmed = await other.browser.submit(action, { csrf_token: csrf });
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.get("Location")).toBe(`${BYE}?state=s1`);
    expect(other.browser.cookie).toBeNull();
  });
});

describe("a pending authorization request", () => {
  it("sends no code to a redirect URI the admin removed since the request began", async () => {
    const email = await signupAndVerify();
    const client = await newPublicClient();
    const removeUri = async () => {
      const patched = await admin("PATCH", `/admin/clients/${client.client_id}`, {
        redirect_uris: ["http://127.0.0.1/elsewhere"],
      });
      expect(patched.status).toBe(200);
    };

    // Removed while the consent page is shown: allowing it redirects nowhere.
    const browser = new TestBrowser();
    const flow = await startFlow(client);
    const { interaction } = pageFields(await (await browser.get(flow.url.toString())).text());
    const loggedIn = await browser.submit(`/oauth/interaction/${interaction}/login`, { email, password: PASSWORD });
    const consent = pageFields(await (await browser.get(loggedIn.headers.get("Location") as string)).text());
    await removeUri();
    await expectLocalPage(
      await browser.submit(`/oauth/interaction/${consent.interaction}/consent`, {
        csrf_token: consent.csrf as string,
        decision: "allow",
      }),
    );

    // Removed while the login page is shown: the login and the interaction end on our page.
    await admin("PATCH", `/admin/clients/${client.client_id}`, { redirect_uris: ["http://127.0.0.1/callback"] });
    const fresh = new TestBrowser();
    const second = await startFlow(client);
    const login = pageFields(await (await fresh.get(second.url.toString())).text());
    await removeUri();
    await expectLocalPage(
      await fresh.submit(`/oauth/interaction/${login.interaction}/login`, { email, password: PASSWORD }),
    );
    await expectLocalPage(await fresh.get(`/oauth/interaction/${login.interaction}`));
  });
});
