// The authorization code flow as a relying party drives it, with oauth4webapi
// (a spec-strict client) building the requests and checking the answers.
import * as oauth from "oauth4webapi";
import { expect } from "vitest";
import { PASSWORD } from "../helpers";
import { authorizationServer, createClient, pageFields, type TestBrowser, viaWorker } from "./oauth-helpers";

export const REDIRECT = "http://127.0.0.1:48123/callback";

export interface Flow {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
  verifier: string;
  state: string;
  nonce: string;
  url: URL;
}

export async function startFlow(
  client: { client_id: string; client_secret?: string },
  extra: Record<string, string> = {},
): Promise<Flow> {
  const as = await authorizationServer();
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint as string);
  const query = {
    client_id: client.client_id,
    redirect_uri: REDIRECT,
    response_type: "code",
    scope: "openid email offline_access",
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    ...extra,
  };
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  const clientAuth = client.client_secret ? oauth.ClientSecretBasic(client.client_secret) : oauth.None();
  return { as, client: { client_id: client.client_id }, clientAuth, verifier, state, nonce, url };
}

/**
 * Logs in on the hosted page and allows on the consent page (unless the user
 * allowed this client before); answers the redirect to the client.
 */
export async function loginAndConsent(browser: TestBrowser, flow: Flow, email: string): Promise<URL> {
  const loginPage = await browser.get(flow.url.toString());
  expect(loginPage.status).toBe(200);
  const { interaction } = pageFields(await loginPage.text());
  const loggedIn = await browser.submit(`/oauth/interaction/${interaction}/login`, { email, password: PASSWORD });
  expect(loggedIn.status).toBe(303);
  const consent = await browser.get(loggedIn.headers.get("Location") as string);
  if (consent.status === 302) return new URL(consent.headers.get("Location") as string);
  expect(consent.status).toBe(200);
  const fields = pageFields(await consent.text());
  const answered = await browser.submit(`/oauth/interaction/${fields.interaction}/consent`, {
    csrf_token: fields.csrf as string,
    decision: "allow",
  });
  expect(answered.status).toBe(303);
  return new URL(answered.headers.get("Location") as string);
}

export async function exchange(flow: Flow, callback: URL) {
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
  return oauth.processAuthorizationCodeResponse(flow.as, flow.client, response, {
    expectedNonce: flow.nonce,
    requireIdToken: true,
  });
}

export async function newPublicClient(extra: Record<string, unknown> = {}) {
  return createClient({
    client_name: "Notes app",
    redirect_uris: ["http://127.0.0.1/callback"],
    token_endpoint_auth_method: "none",
    grant_types: ["authorization_code", "refresh_token"],
    ...extra,
  });
}
