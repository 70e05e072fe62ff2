// Regression tests for the security review of the OAuth provider, the grant
// and token side: what a client may still hold after the user or an admin
// took something away. Each test fails if its fix is reverted.
// (The authorization-request side is in hardening-requests.test.ts.)
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { BASE, bearer, expectError, login, postJson, send, signupAndVerify, userRow } from "../helpers";
import { exchange, loginAndConsent, newPublicClient, REDIRECT, startFlow } from "./flow";
import { adminAccessToken, createClient, postForm, TestBrowser } from "./oauth-helpers";

const admin = async (method: string, path: string, body?: unknown) =>
  send(
    new Request(`${BASE}${path}`, {
      method,
      headers: { "Content-Type": "application/json", ...bearer(await adminAccessToken()) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );

const userinfo = (accessToken: string) => send(new Request(`${BASE}/oauth/userinfo`, { headers: bearer(accessToken) }));

const refresh = (refreshToken: string, clientId: string) =>
  postForm("/oauth/token", { grant_type: "refresh_token", refresh_token: refreshToken, client_id: clientId });

async function withdrawConsent(email: string, clientId: string) {
  const own = await login(email);
  const response = await send(
    new Request(`${BASE}/auth/consents/${clientId}`, { method: "DELETE", headers: bearer(own.access_token) }),
  );
  expect(response.status).toBe(204);
}

describe("delegated permissions follow the user's roles", () => {
  it("drops a permission scope from the next refresh once the user loses the role that granted it", async () => {
    const email = await signupAndVerify();
    const userId = (await userRow(email))?.id as string;
    // viewer grants posts:read (migrations/0006_rbac.sql).
    expect((await admin("PUT", `/admin/users/${userId}/roles/viewer`)).status).toBe(204);
    const client = await newPublicClient({ scope: "openid email offline_access posts:read" });
    const flow = await startFlow(client, { scope: "openid offline_access posts:read" });
    const tokens = await exchange(flow, await loginAndConsent(new TestBrowser(), flow, email));
    expect(tokens.scope).toBe("openid offline_access posts:read");

    expect((await admin("DELETE", `/admin/users/${userId}/roles/viewer`)).status).toBe(204);
    const refreshed = await refresh(tokens.refresh_token as string, client.client_id);
    expect(refreshed.status).toBe(200);
    const body = (await refreshed.json()) as { scope: string; access_token: string; refresh_token: string };
    expect(body.scope).toBe("openid offline_access");
    expect(decodeJwt(body.access_token).scope).toBe("openid offline_access");
    // Asking for it by name is wider than what is still delegable.
    const asked = await postForm("/oauth/token", {
      grant_type: "refresh_token",
      refresh_token: body.refresh_token,
      client_id: client.client_id,
      scope: "openid posts:read",
    });
    await expectError(asked, 400, "invalid_scope");
  });
});

describe("withdrawing consent", () => {
  it("ends an access-only grant and voids a code issued under the consent", async () => {
    const email = await signupAndVerify();
    const client = await newPublicClient();
    const browser = new TestBrowser();
    // openid without offline_access: an access token and no refresh token.
    const flow = await startFlow(client, { scope: "openid email" });
    const tokens = await exchange(flow, await loginAndConsent(browser, flow, email));
    expect(tokens.refresh_token).toBeUndefined();
    expect((await userinfo(tokens.access_token)).status).toBe(200);
    // The consent stands, so a second request comes straight back with a code, not yet redeemed.
    const second = await startFlow(client, { scope: "openid email" });
    const answered = await browser.get(second.url.toString());
    expect(answered.status).toBe(302);
    const pendingCode = new URL(answered.headers.get("Location") as string).searchParams.get("code") as string;

    await withdrawConsent(email, client.client_id);
    await expectError(await userinfo(tokens.access_token), 401, "invalid_token");
    const redeemed = await postForm("/oauth/token", {
      grant_type: "authorization_code",
      code: pendingCode,
      redirect_uri: REDIRECT,
      code_verifier: second.verifier,
      client_id: client.client_id,
    });
    await expectError(redeemed, 400, "invalid_grant");
  });
});

describe("deleting a client", () => {
  it("revokes the live access tokens of its grants, with and without a refresh token", async () => {
    const email = await signupAndVerify();
    const client = await newPublicClient();
    const offline = await startFlow(client);
    const withRefresh = await exchange(offline, await loginAndConsent(new TestBrowser(), offline, email));
    const online = await startFlow(client, { scope: "openid email" });
    const accessOnly = await exchange(online, await loginAndConsent(new TestBrowser(), online, email));
    expect(accessOnly.refresh_token).toBeUndefined();
    expect((await userinfo(withRefresh.access_token)).status).toBe(200);
    expect((await userinfo(accessOnly.access_token)).status).toBe(200);

    expect((await admin("DELETE", `/admin/clients/${client.client_id}`)).status).toBe(204);
    await expectError(await userinfo(withRefresh.access_token), 401, "invalid_token");
    await expectError(await userinfo(accessOnly.access_token), 401, "invalid_token");
    // The client itself is gone, so the token endpoint stops at client authentication.
    await expectError(await refresh(withRefresh.refresh_token as string, client.client_id), 401, "invalid_client");
    const sessions = await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE client_id = ?")
      .bind(client.client_id)
      .first<{ n: number }>();
    expect(sessions?.n).toBe(0);
  });
});

describe("what a client gets without an admin's say", () => {
  it("issues access tokens for the issuer to a client with no audiences", async () => {
    const email = await signupAndVerify();
    const client = await newPublicClient();
    expect(client.audiences).toEqual(["https://auth.test"]);
    const flow = await startFlow(client);
    const tokens = await exchange(flow, await loginAndConsent(new TestBrowser(), flow, email));
    // Not the deployment's API (ACCESS_TOKEN_AUDIENCE, https://api.test): no API accepts it as the user.
    expect(decodeJwt(tokens.access_token).aud).toBe("https://auth.test");
    const refreshed = (await (await refresh(tokens.refresh_token as string, client.client_id)).json()) as {
      access_token: string;
    };
    expect(decodeJwt(refreshed.access_token).aud).toBe("https://auth.test");
  });

  it("refuses permission scopes at dynamic registration, which an admin may still assign", async () => {
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM oauth_clients").first<{ n: number }>();
    for (const scope of ["openid posts:read", "users:write"]) {
      const response = await postJson("/oauth/register", {
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: "none",
        scope,
      });
      await expectError(response, 400, "invalid_client_metadata");
    }
    const after = await env.DB.prepare("SELECT COUNT(*) AS n FROM oauth_clients").first<{ n: number }>();
    expect(after?.n).toBe(before?.n);
    const registered = await postJson("/oauth/register", { redirect_uris: [REDIRECT], scope: "openid email" });
    expect(registered.status).toBe(201);
    const byAdmin = await createClient({ redirect_uris: [REDIRECT], scope: "openid posts:read" });
    expect(byAdmin.scope).toBe("openid posts:read");
  });
});
