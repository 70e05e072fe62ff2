import { env } from "cloudflare:workers";
import { createLocalJWKSet, jwtVerify } from "jose";
import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { BASE, bearer, expectError, PASSWORD, send, signupAndVerify } from "../helpers";
import { exchange, loginAndConsent, newPublicClient, REDIRECT, startFlow } from "./flow";
import { pageFields, postForm, TestBrowser, viaWorker } from "./oauth-helpers";

describe("the authorization code flow with PKCE", () => {
  it("logs in, asks consent, and gives tokens whose ID token oauth4webapi and jose accept", async () => {
    const email = await signupAndVerify();
    const created = await newPublicClient();
    const flow = await startFlow(created);
    const callback = await loginAndConsent(new TestBrowser(), flow, email);
    expect(callback.origin + callback.pathname).toBe("http://127.0.0.1:48123/callback");
    expect(callback.searchParams.get("iss")).toBe("https://auth.test");
    const tokens = await exchange(flow, callback);
    expect(tokens.scope).toBe("openid email offline_access");
    expect(tokens.refresh_token).toMatch(/^elr_/);
    const claims = oauth.getValidatedIdTokenClaims(tokens);
    expect(claims).toMatchObject({ iss: "https://auth.test", aud: created.client_id, nonce: flow.nonce, email });
    expect(claims?.amr).toEqual(["pwd"]);
    expect(claims?.acr).toBe("urn:edgelock:acr:1fa");
    expect(typeof claims?.auth_time).toBe("number");
    const jwks = createLocalJWKSet(await (await send(`${BASE}/.well-known/jwks.json`)).json());
    const { protectedHeader } = await jwtVerify(tokens.id_token as string, jwks, { algorithms: ["RS256"] });
    expect(protectedHeader.kid).toBeTruthy();
    const access = JSON.parse(
      atob((tokens.access_token.split(".")[1] as string).replace(/-/g, "+").replace(/_/g, "/")),
    );
    expect(access).toMatchObject({
      client_id: created.client_id,
      aud: "https://auth.test",
      scope: "openid email offline_access",
      sid: claims?.sid,
    });
    expect(access.roles).toBeUndefined();

    // userinfo: header, and form body.
    const userinfo = await oauth.userInfoRequest(flow.as, flow.client, tokens.access_token, viaWorker);
    const info = await oauth.processUserInfoResponse(flow.as, flow.client, claims?.sub as string, userinfo);
    expect(info).toMatchObject({ sub: claims?.sub, email, email_verified: true });
    const viaBody = await postForm("/oauth/userinfo", { access_token: tokens.access_token });
    expect(await viaBody.json()).toMatchObject({ sub: claims?.sub });
  });

  it("remembers consent: the second authorization goes straight back with a code", async () => {
    const email = await signupAndVerify();
    const created = await newPublicClient();
    const browser = new TestBrowser();
    await loginAndConsent(browser, await startFlow(created), email);
    const again = await startFlow(created);
    const response = await browser.get(again.url.toString());
    expect(response.status).toBe(302);
    const tokens = await exchange(again, new URL(response.headers.get("Location") as string));
    expect(tokens.access_token).toBeTruthy();
    const consents = await env.DB.prepare("SELECT scopes FROM oauth_consents WHERE client_id = ?")
      .bind(created.client_id)
      .all();
    expect(consents.results).toHaveLength(1);
  });

  it("refuses a replayed code and revokes the tokens issued from it", async () => {
    const email = await signupAndVerify();
    const created = await newPublicClient();
    const flow = await startFlow(created);
    const callback = await loginAndConsent(new TestBrowser(), flow, email);
    const tokens = await exchange(flow, callback);
    const code = callback.searchParams.get("code") as string;
    const replay = await postForm("/oauth/token", {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      code_verifier: flow.verifier,
      client_id: created.client_id,
    });
    await expectError(replay, 400, "invalid_grant");
    const refresh = await postForm("/oauth/token", {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token as string,
      client_id: created.client_id,
    });
    await expectError(refresh, 400, "invalid_grant");
    const me = await oauth.userInfoRequest(flow.as, flow.client, tokens.access_token, viaWorker);
    expect(me.status).toBe(401);
  });

  it("refuses a wrong verifier, another client, another redirect URI; and burns the code", async () => {
    const email = await signupAndVerify();
    const created = await newPublicClient();
    const other = await newPublicClient();
    const flow = await startFlow(created);
    const callback = await loginAndConsent(new TestBrowser(), flow, email);
    const code = callback.searchParams.get("code") as string;
    const base = { grant_type: "authorization_code", code, redirect_uri: REDIRECT, client_id: created.client_id };
    await expectError(
      await postForm("/oauth/token", { ...base, code_verifier: oauth.generateRandomCodeVerifier() }),
      400,
      "invalid_grant",
    );
    // Burnt by the failed attempt: the right verifier no longer helps.
    await expectError(await postForm("/oauth/token", { ...base, code_verifier: flow.verifier }), 400, "invalid_grant");

    const flow2 = await startFlow(created);
    const code2 = (await loginAndConsent(new TestBrowser(), flow2, email)).searchParams.get("code") as string;
    const asOther = { ...base, code: code2, client_id: other.client_id, code_verifier: flow2.verifier };
    await expectError(await postForm("/oauth/token", asOther), 400, "invalid_grant");

    const flow3 = await startFlow(created);
    const code3 = (await loginAndConsent(new TestBrowser(), flow3, email)).searchParams.get("code") as string;
    const wrongUri = { ...base, code: code3, redirect_uri: "http://127.0.0.1:1/other", code_verifier: flow3.verifier };
    await expectError(await postForm("/oauth/token", wrongUri), 400, "invalid_grant");
  });

  it("rotates refresh tokens bound to the client; narrower scope only; reuse ends the family", async () => {
    const email = await signupAndVerify();
    const created = await newPublicClient();
    const other = await newPublicClient();
    const flow = await startFlow(created);
    const tokens = await exchange(flow, await loginAndConsent(new TestBrowser(), flow, email));
    const first = tokens.refresh_token as string;
    const foreign = await postForm("/oauth/token", {
      grant_type: "refresh_token",
      refresh_token: first,
      client_id: other.client_id,
    });
    await expectError(foreign, 400, "invalid_grant");
    const wider = await postForm("/oauth/token", {
      grant_type: "refresh_token",
      refresh_token: first,
      client_id: created.client_id,
      scope: "openid email profile",
    });
    await expectError(wider, 400, "invalid_scope");
    const refreshed = await oauth.processRefreshTokenResponse(
      flow.as,
      flow.client,
      await oauth.refreshTokenGrantRequest(flow.as, flow.client, flow.clientAuth, first, {
        ...viaWorker,
        additionalParameters: { scope: "openid" },
      }),
    );
    expect(refreshed.scope).toBe("openid");
    expect(refreshed.refresh_token).not.toBe(first);
    expect(refreshed.id_token).toBeTruthy();
    const firstParty = await send(
      new Request(`${BASE}/auth/refresh`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: refreshed.refresh_token }),
      }),
    );
    await expectError(firstParty, 400, "invalid_grant");
  });

  it("does not let the client's access token into the user's own account endpoints", async () => {
    const email = await signupAndVerify();
    const created = await newPublicClient();
    const flow = await startFlow(created);
    const tokens = await exchange(flow, await loginAndConsent(new TestBrowser(), flow, email));
    await expectError(
      await send(new Request(`${BASE}/auth/sessions`, { headers: bearer(tokens.access_token) })),
      401,
      "invalid_token",
    );
  });

  it("answers Deny with access_denied, state and iss, and issues nothing", async () => {
    const email = await signupAndVerify();
    const created = await newPublicClient();
    const flow = await startFlow(created);
    const browser = new TestBrowser();
    const login = await browser.get(flow.url.toString());
    const { interaction } = pageFields(await login.text());
    const loggedIn = await browser.submit(`/oauth/interaction/${interaction}/login`, { email, password: PASSWORD });
    const consent = pageFields(await (await browser.get(loggedIn.headers.get("Location") as string)).text());
    const denied = await browser.submit(`/oauth/interaction/${consent.interaction}/consent`, {
      csrf_token: consent.csrf as string,
      decision: "deny",
    });
    const location = new URL(denied.headers.get("Location") as string);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      error: "access_denied",
      state: flow.state,
      iss: "https://auth.test",
    });
    const again = await browser.submit(`/oauth/interaction/${consent.interaction}/consent`, {
      csrf_token: consent.csrf as string,
      decision: "allow",
    });
    expect(again.status).toBe(400);
    expect(again.headers.get("Location")).toBeNull();
  });
});
