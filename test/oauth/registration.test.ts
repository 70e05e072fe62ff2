import { env } from "cloudflare:workers";
import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { BASE, bearer, expectError, jsonRequest, postJson, sendWithEnv, signupAndVerify } from "../helpers";
import { exchange, loginAndConsent, REDIRECT, startFlow } from "./flow";
import { adminAccessToken, authorizationServer, TestBrowser, viaWorker } from "./oauth-helpers";

describe("dynamic client registration (RFC 7591)", () => {
  it("registers a public client through oauth4webapi, which then completes a login", async () => {
    const as = await authorizationServer();
    expect(as.registration_endpoint).toBe("https://auth.test/oauth/register");
    const response = await oauth.dynamicClientRegistrationRequest(
      as,
      {
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: "none",
        client_name: "CLI",
        grant_types: ["authorization_code", "refresh_token"],
      },
      viaWorker,
    );
    const client = await oauth.processDynamicClientRegistrationResponse(response);
    expect(client.client_secret).toBeUndefined();
    expect(client).toMatchObject({ client_name: "CLI", redirect_uris: [REDIRECT], token_endpoint_auth_method: "none" });
    const email = await signupAndVerify();
    const flow = await startFlow({ client_id: client.client_id });
    const tokens = await exchange(flow, await loginAndConsent(new TestBrowser(), flow, email));
    expect(tokens.refresh_token).toBeTruthy();
  });

  it("refuses what only an admin may set, bad redirect URIs, and non-JSON bodies, storing nothing", async () => {
    const before = await env.DB.prepare("SELECT COUNT(*) AS n FROM oauth_clients").first<{ n: number }>();
    for (const metadata of [
      { redirect_uris: [REDIRECT], first_party: true },
      { redirect_uris: [REDIRECT], audiences: ["https://billing.test"] },
      { grant_types: ["client_credentials"] },
    ]) {
      await expectError(await postJson("/oauth/register", metadata), 400, "invalid_client_metadata");
    }
    await expectError(
      await postJson("/oauth/register", { redirect_uris: ["http://rp.example/cb"] }),
      400,
      "invalid_redirect_uri",
    );
    await expectError(
      await postJson("/oauth/register", { redirect_uris: ["https://rp.example/cb#x"] }),
      400,
      "invalid_redirect_uri",
    );
    const form = await postJson("/oauth/register", "redirect_uris=x", {
      "Content-Type": "application/x-www-form-urlencoded",
    });
    expect(form.status).toBe(415);
    const after = await env.DB.prepare("SELECT COUNT(*) AS n FROM oauth_clients").first<{ n: number }>();
    expect(after?.n).toBe(before?.n);
  });

  it("is off when OAUTH_REGISTRATION=off, and says nothing about it in discovery", async () => {
    const off = { OAUTH_REGISTRATION: "off" };
    await expectError(
      await sendWithEnv(off, jsonRequest("/oauth/register", { redirect_uris: [REDIRECT] })),
      404,
      "not_found",
    );
    const discovery = await sendWithEnv(off, new Request(`${BASE}/.well-known/openid-configuration`));
    expect(await discovery.json()).not.toHaveProperty("registration_endpoint");
  });

  it("takes an admin-minted initial access token once when OAUTH_REGISTRATION=token", async () => {
    const tokenMode = { OAUTH_REGISTRATION: "token" };
    const admin = bearer(await adminAccessToken());
    const minted = await sendWithEnv(tokenMode, jsonRequest("/admin/clients/registration-tokens", {}, admin));
    expect(minted.status).toBe(201);
    const { initial_access_token } = (await minted.json()) as { initial_access_token: string };
    const metadata = { redirect_uris: [REDIRECT] };
    const without = await sendWithEnv(tokenMode, jsonRequest("/oauth/register", metadata));
    await expectError(without, 401, "invalid_token");
    const badMetadata = await sendWithEnv(
      tokenMode,
      jsonRequest("/oauth/register", { redirect_uris: ["http://x.example"] }, bearer(initial_access_token)),
    );
    await expectError(badMetadata, 400, "invalid_redirect_uri");
    const first = await sendWithEnv(tokenMode, jsonRequest("/oauth/register", metadata, bearer(initial_access_token)));
    expect(first.status).toBe(201);
    expect(((await first.json()) as { client_secret?: string }).client_secret).toBeTruthy();
    const second = await sendWithEnv(tokenMode, jsonRequest("/oauth/register", metadata, bearer(initial_access_token)));
    await expectError(second, 401, "invalid_token");
    // Minting in open mode makes no sense, and says so.
    await expectError(await postJson("/admin/clients/registration-tokens", {}, admin), 409, "invalid_request");
  });
});
