// One test per module of the OpenID Foundation's Basic OP (and Config OP)
// test plans that applies to a code-flow provider, driven by oauth4webapi.
// Module names are the plan's; each checks what that module checks.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import * as oauth from "oauth4webapi";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BASE, PASSWORD, send, signupAndVerify } from "../helpers";
import { exchange, type Flow, loginAndConsent, newPublicClient, REDIRECT, startFlow } from "../oauth/flow";
import { createClient, pageFields, postForm, TestBrowser, viaWorker } from "../oauth/oauth-helpers";

/** A user logged in (and consented) once in `browser`; later flows may go straight through. */
async function loggedIn(extra: Record<string, string> = {}) {
  const email = await signupAndVerify();
  const client = await newPublicClient();
  const browser = new TestBrowser();
  const flow = await startFlow(client, extra);
  const callback = await loginAndConsent(browser, flow, email);
  return { email, client, browser, flow, callback };
}

async function redirectOf(browser: TestBrowser, flow: Flow): Promise<URL> {
  const response = await browser.get(flow.url.toString());
  expect(response.status).toBe(302);
  return new URL(response.headers.get("Location") as string);
}

function errorOf(callback: URL) {
  return Object.fromEntries(callback.searchParams);
}

afterEach(() => {
  vi.useRealTimers();
});

describe("OpenID Connect Basic OP", () => {
  it("oidcc-server: code flow with state and nonce", async () => {
    const { flow, callback } = await loggedIn();
    const tokens = await exchange(flow, callback);
    expect(oauth.getValidatedIdTokenClaims(tokens)?.nonce).toBe(flow.nonce);
  });

  it("oidcc-response-type-missing: an error redirect, not a page", async () => {
    const client = await newPublicClient();
    const flow = await startFlow(client);
    flow.url.searchParams.delete("response_type");
    const callback = await redirectOf(new TestBrowser(), flow);
    expect(errorOf(callback)).toMatchObject({ error: "invalid_request", state: flow.state, iss: "https://auth.test" });
  });

  it("oidcc-idtoken-signature / oidcc-idtoken-kid: RS256 with a kid that is in the JWKS", async () => {
    const { flow, callback } = await loggedIn();
    const tokens = await exchange(flow, callback);
    const header = decodeProtectedHeader(tokens.id_token as string);
    expect(header.alg).toBe("RS256");
    const jwks = (await (await send(`${BASE}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((key) => key.kid)).toContain(header.kid);
    await jwtVerify(tokens.id_token as string, createLocalJWKSet(jwks as never), { algorithms: ["RS256"] });
  });

  it("oidcc-idtoken-es256: a client that registered ES256 gets ES256 ID tokens", async () => {
    const email = await signupAndVerify();
    const client = await newPublicClient({ id_token_signed_response_alg: "ES256" });
    const flow = await startFlow(client);
    const tokens = await exchange(flow, await loginAndConsent(new TestBrowser(), flow, email));
    expect(decodeProtectedHeader(tokens.id_token as string).alg).toBe("ES256");
  });

  it("oidcc-userinfo-get / -post-header / -post-body", async () => {
    const { flow, callback, email } = await loggedIn();
    const tokens = await exchange(flow, callback);
    const get = await send(
      new Request(`${BASE}/oauth/userinfo`, { headers: { Authorization: `Bearer ${tokens.access_token}` } }),
    );
    const postHeader = await send(
      new Request(`${BASE}/oauth/userinfo`, {
        method: "POST",
        headers: { Authorization: `Bearer ${tokens.access_token}` },
      }),
    );
    const postBody = await postForm("/oauth/userinfo", { access_token: tokens.access_token });
    for (const response of [get, postHeader, postBody]) {
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ email });
    }
    const inQuery = await send(`${BASE}/oauth/userinfo?access_token=${tokens.access_token}`);
    expect(inQuery.status).toBe(400);
  });

  it("oidcc-ensure-request-without-nonce-succeeds-for-code-flow", async () => {
    const email = await signupAndVerify();
    const client = await newPublicClient();
    const flow = await startFlow(client);
    flow.url.searchParams.delete("nonce");
    const callback = await loginAndConsent(new TestBrowser(), flow, email);
    const params = oauth.validateAuthResponse(flow.as, flow.client, callback, flow.state);
    const response = await oauth.authorizationCodeGrantRequest(
      flow.as,
      flow.client,
      flow.clientAuth,
      params,
      REDIRECT,
      flow.verifier,
      viaWorker,
    );
    const tokens = await oauth.processAuthorizationCodeResponse(flow.as, flow.client, response, {
      expectedNonce: oauth.expectNoNonce,
    });
    expect(oauth.getValidatedIdTokenClaims(tokens)?.nonce).toBeUndefined();
  });

  it("oidcc-scope-email: email and email_verified only with the email scope", async () => {
    const email = await signupAndVerify();
    const client = await newPublicClient();
    const without = await startFlow(client, { scope: "openid" });
    const tokens = await exchange(without, await loginAndConsent(new TestBrowser(), without, email));
    expect(oauth.getValidatedIdTokenClaims(tokens)?.email).toBeUndefined();
    const info = await (
      await send(new Request(`${BASE}/oauth/userinfo`, { headers: { Authorization: `Bearer ${tokens.access_token}` } }))
    ).json();
    expect(info).not.toHaveProperty("email");
  });

  it("oidcc-prompt-login: a logged-in user is asked to log in again", async () => {
    const { browser, client, email } = await loggedIn();
    const flow = await startFlow(client, { prompt: "login" });
    const page = await browser.get(flow.url.toString());
    expect(page.status).toBe(200);
    const { interaction } = pageFields(await page.text());
    const relogin = await browser.submit(`/oauth/interaction/${interaction}/login`, { email, password: PASSWORD });
    const callback = await redirectOf(browser, { ...flow, url: new URL(`${BASE}${relogin.headers.get("Location")}`) });
    const tokens = await exchange(flow, callback);
    expect(oauth.getValidatedIdTokenClaims(tokens)?.auth_time).toBeGreaterThanOrEqual(
      Math.floor(Date.now() / 1000) - 5,
    );
  });

  it("oidcc-prompt-none-logged-in: a code without any page", async () => {
    const { browser, client } = await loggedIn();
    const flow = await startFlow(client, { prompt: "none" });
    const tokens = await exchange(flow, await redirectOf(browser, flow));
    expect(tokens.access_token).toBeTruthy();
  });

  it("oidcc-prompt-none-not-logged-in: login_required", async () => {
    const client = await newPublicClient();
    const flow = await startFlow(client, { prompt: "none" });
    expect(errorOf(await redirectOf(new TestBrowser(), flow))).toMatchObject({
      error: "login_required",
      state: flow.state,
    });
  });

  it("prompt=none without consent: consent_required", async () => {
    const email = await signupAndVerify();
    const client = await newPublicClient();
    const browser = new TestBrowser();
    await loginAndConsent(browser, await startFlow(client), email);
    const other = await newPublicClient();
    const flow = await startFlow(other, { prompt: "none" });
    expect(errorOf(await redirectOf(browser, flow))).toMatchObject({ error: "consent_required" });
  });

  it("oidcc-max-age-1: a login older than max_age asks again", async () => {
    const { browser, client } = await loggedIn();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 2000);
    const flow = await startFlow(client, { max_age: "1" });
    const page = await browser.get(flow.url.toString());
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="password"');
  });

  it("oidcc-max-age-10000: a recent login is enough", async () => {
    const { browser, client } = await loggedIn();
    const flow = await startFlow(client, { max_age: "10000" });
    const tokens = await exchange(flow, await redirectOf(browser, flow));
    expect(oauth.getValidatedIdTokenClaims(tokens)?.auth_time).toBeTypeOf("number");
  });

  it("oidcc-unknown-parameter: ignored", async () => {
    const { browser, client } = await loggedIn();
    const flow = await startFlow(client, { extra: "foobar" });
    expect((await redirectOf(browser, flow)).searchParams.get("code")).toBeTruthy();
  });

  it("oidcc-login-hint: the login page is filled in", async () => {
    const client = await newPublicClient();
    const flow = await startFlow(client, { login_hint: "hinted@example.com" });
    const page = await new TestBrowser().get(flow.url.toString());
    expect(await page.text()).toContain('value="hinted@example.com"');
  });

  it("oidcc-id-token-hint: the hinted user, or a login", async () => {
    const { browser, client, flow: first, callback } = await loggedIn();
    const tokens = await exchange(first, callback);
    const same = await startFlow(client, { id_token_hint: tokens.id_token as string, prompt: "none" });
    expect((await redirectOf(browser, same)).searchParams.get("code")).toBeTruthy();
    const someoneElse = await loggedIn();
    const other = await exchange(someoneElse.flow, someoneElse.callback);
    const wrongUser = await startFlow(client, { id_token_hint: other.id_token as string, prompt: "none" });
    // Signed for another client: not a hint for this one.
    expect(errorOf(await redirectOf(browser, wrongUser)).error).toBe("invalid_request");
  });

  it("oidcc-codereuse / oidcc-codereuse-30seconds: a reused code fails and revokes the tokens", async () => {
    const { flow, callback } = await loggedIn();
    const tokens = await exchange(flow, callback);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 30_000);
    const replay = await postForm("/oauth/token", {
      grant_type: "authorization_code",
      code: callback.searchParams.get("code") as string,
      redirect_uri: REDIRECT,
      code_verifier: flow.verifier,
      client_id: flow.client.client_id,
    });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: string }).error).toBe("invalid_grant");
    const info = await send(
      new Request(`${BASE}/oauth/userinfo`, { headers: { Authorization: `Bearer ${tokens.access_token}` } }),
    );
    expect(info.status).toBe(401);
  });

  it("oidcc-ensure-registered-redirect-uri: a local error page, never a redirect", async () => {
    const client = await newPublicClient();
    const flow = await startFlow(client);
    flow.url.searchParams.set("redirect_uri", "https://attacker.example/cb");
    const response = await new TestBrowser().get(flow.url.toString());
    expect(response.status).toBe(400);
    expect(response.headers.get("Location")).toBeNull();
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
  });

  it("oidcc-ensure-post-request-succeeds: the authorization request as a form post", async () => {
    const { browser, client } = await loggedIn();
    const flow = await startFlow(client);
    const response = await browser.submit(
      "/oauth/authorize",
      Object.fromEntries(flow.url.searchParams),
      "https://rp.example",
    );
    expect(response.status).toBe(303);
    await exchange(flow, new URL(response.headers.get("Location") as string));
  });

  it("oidcc-client-secret-post: a confidential client authenticating in the body", async () => {
    const email = await signupAndVerify();
    const client = await createClient({
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: "client_secret_post",
      grant_types: ["authorization_code"],
    });
    const flow = await startFlow(client);
    flow.clientAuth = oauth.ClientSecretPost(client.client_secret as string);
    const tokens = await exchange(flow, await loginAndConsent(new TestBrowser(), flow, email));
    expect(tokens.refresh_token).toBeUndefined();
  });

  it("oidcc-request-uri-unsigned / oidcc-unsigned-request-object: refused with the OIDC codes", async () => {
    const client = await newPublicClient();
    const withRequest = await startFlow(client, { request: "eyJhbGciOiJub25lIn0.e30." });
    expect(errorOf(await redirectOf(new TestBrowser(), withRequest)).error).toBe("request_not_supported");
    const withUri = await startFlow(client, { request_uri: "https://rp.example/request.jwt" });
    expect(errorOf(await redirectOf(new TestBrowser(), withUri)).error).toBe("request_uri_not_supported");
  });

  it("oidcc-refresh-token: a new access token, ID token and refresh token", async () => {
    const { flow, callback } = await loggedIn();
    const tokens = await exchange(flow, callback);
    const response = await oauth.refreshTokenGrantRequest(
      flow.as,
      flow.client,
      flow.clientAuth,
      tokens.refresh_token as string,
      viaWorker,
    );
    const refreshed = await oauth.processRefreshTokenResponse(flow.as, flow.client, response);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(oauth.getValidatedIdTokenClaims(refreshed)?.sub).toBe(oauth.getValidatedIdTokenClaims(tokens)?.sub);
  });
});

describe("PKCE and the refused flows (OAuth 2.1)", () => {
  it("refuses plain, a missing challenge from a public client, and implicit / hybrid response types", async () => {
    const client = await newPublicClient();
    const plain = await startFlow(client, { code_challenge_method: "plain" });
    expect(errorOf(await redirectOf(new TestBrowser(), plain)).error).toBe("invalid_request");
    const missing = await startFlow(client);
    missing.url.searchParams.delete("code_challenge");
    missing.url.searchParams.delete("code_challenge_method");
    expect(errorOf(await redirectOf(new TestBrowser(), missing)).error).toBe("invalid_request");
    for (const responseType of ["token", "id_token", "code id_token"]) {
      const flow = await startFlow(client, { response_type: responseType });
      expect(errorOf(await redirectOf(new TestBrowser(), flow)).error).toBe("unsupported_response_type");
    }
  });

  it("refuses a code_verifier when the request had no challenge (RFC 9700 §2.1.1)", async () => {
    const email = await signupAndVerify();
    const client = await createClient({ redirect_uris: [REDIRECT], grant_types: ["authorization_code"] });
    const flow = await startFlow(client);
    flow.url.searchParams.delete("code_challenge");
    flow.url.searchParams.delete("code_challenge_method");
    const callback = await loginAndConsent(new TestBrowser(), flow, email);
    const response = await postForm(
      "/oauth/token",
      {
        grant_type: "authorization_code",
        code: callback.searchParams.get("code") as string,
        redirect_uri: REDIRECT,
        code_verifier: flow.verifier,
      },
      { Authorization: `Basic ${btoa(`${client.client_id}:${client.client_secret}`)}` },
    );
    expect(response.status).toBe(400);
  });
});
