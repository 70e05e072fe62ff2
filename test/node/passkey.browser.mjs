// A real-browser passkey test: Debian's chromium driven by playwright-core
// against `wrangler dev` on http://localhost (a secure context; relying party
// id "localhost"), with chromium's virtual authenticator (CDP WebAuthn:
// internal transport, resident keys, user verification). A passkey is
// registered through the API from the page (navigator.credentials.create),
// then the hosted OAuth login page's "Sign in with a passkey" logs in with it
// and the authorization request carries on to consent and the client.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";
import { launchChromium, noChromium, PASSWORD, signUpAndVerify, startDevServer } from "./support/dev-server.mjs";

const skip = noChromium;

let server;
let browser;

before(async () => {
  if (skip) return;
  server = await startDevServer();
  browser = await launchChromium(chromium);
});

after(async () => {
  await browser?.close();
  server?.stop();
});

/** Runs in the page: logs in with the password, registers a passkey with navigator.credentials.create. */
async function registerInPage({ email, password }) {
  const b64u = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer)))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
  const bytes = (value) => Uint8Array.from(atob(value.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const post = (path, body, token) =>
    fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const login = await (await post("/auth/login", { email, password })).json();
  const options = await (await post("/auth/passkeys/register/options", {}, login.access_token)).json();
  const credential = await navigator.credentials.create({
    publicKey: {
      ...options,
      challenge: bytes(options.challenge),
      user: { ...options.user, id: bytes(options.user.id) },
      excludeCredentials: options.excludeCredentials.map((c) => ({ ...c, id: bytes(c.id) })),
    },
  });
  const response = {
    id: credential.id,
    rawId: b64u(credential.rawId),
    type: credential.type,
    response: {
      clientDataJSON: b64u(credential.response.clientDataJSON),
      attestationObject: b64u(credential.response.attestationObject),
      transports: credential.response.getTransports(),
    },
    clientExtensionResults: credential.getClientExtensionResults(),
  };
  const verified = await post("/auth/passkeys/register/verify", { response, name: "Chromium" }, login.access_token);
  return { status: verified.status, body: await verified.json() };
}

test("a passkey registered in the browser logs in on the hosted login page, through to consent", { skip }, async () => {
  const api = `http://127.0.0.1:${server.port}`;
  const base = `http://localhost:${server.port}`;
  const email = `passkey-${Date.now()}@example.com`;
  await signUpAndVerify(api, email);
  const redirectUri = "http://127.0.0.1:9/callback";
  const registered = await fetch(`${api}/oauth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      client_name: "Passkey app",
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: "none",
    }),
  });
  assert.equal(registered.status, 201);
  const { client_id } = await registered.json();

  const context = await browser.newContext();
  await context.route(`${redirectUri}**`, (route) =>
    route.fulfill({ status: 200, contentType: "text/html", body: "<p>back at the client</p>" }),
  );
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });

  await page.goto(`${base}/health`);
  const created = await page.evaluate(registerInPage, { email, password: PASSWORD });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.name, "Chromium");
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true);
  assert.equal(credentials[0].rpId, "localhost");

  // Signed out: the registration used a bearer token, so the browser holds no session.
  assert.deepEqual(await context.cookies(base), []);
  const verifier = randomBytes(32).toString("base64url");
  const authorize = new URL(`${base}/oauth/authorize`);
  for (const [name, value] of Object.entries({
    client_id,
    redirect_uri: redirectUri,
    response_type: "code",
    scope: "openid email",
    state: "s-passkey",
    nonce: "n-passkey",
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
  })) {
    authorize.searchParams.set(name, value);
  }
  await page.goto(authorize.toString());
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await page.waitForSelector("text=Passkey app wants to access your account");
  const [cookie] = await context.cookies(base);
  assert.equal(cookie?.name, "__Host-edgelock_session");
  await page.getByRole("button", { name: "Allow" }).click();
  await page.waitForURL((url) => url.href.startsWith(redirectUri));
  const back = new URL(page.url());
  assert.equal(back.searchParams.get("state"), "s-passkey");
  const code = back.searchParams.get("code") ?? "";
  assert.match(code, /^[A-Za-z0-9_-]{43}$/);

  // The code's tokens carry the passkey's amr.
  const token = await fetch(`${api}/oauth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri,
      client_id,
      code_verifier: verifier,
    }),
  });
  assert.equal(token.status, 200);
  const { id_token } = await token.json();
  const claims = JSON.parse(Buffer.from(id_token.split(".")[1], "base64url").toString());
  assert.deepEqual(claims.amr, ["hwk", "user", "mfa"]);
  await context.close();
});
