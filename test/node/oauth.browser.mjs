// Real-browser test of the authorization code flow: Debian's chromium driven by
// playwright-core against `wrangler dev`. A client registers itself (RFC 7591),
// the browser goes to /oauth/authorize, the hosted login and consent pages are
// filled in, and the redirect to the client's loopback callback carries a code
// that oauth4webapi exchanges and whose ID token it validates. Deny answers
// access_denied with state and iss. A user with two-step login on gets the code
// page between login and consent. The CLI (examples/cli) logs in with the
// device grant while chromium enters its code on /device and approves.
// Screenshots of the pages go to the temp dir.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as oauth from "oauth4webapi";
import { chromium } from "playwright-core";
import {
  freePort,
  launchChromium,
  noChromium,
  PASSWORD,
  signUpAndVerify,
  startDevServer,
} from "./support/dev-server.mjs";

const skip = noChromium;
const insecure = { [oauth.allowInsecureRequests]: true };

let server;
let browser;
let callback;
let callbackPort;

before(async () => {
  if (skip) return;
  server = await startDevServer();
  callbackPort = await freePort();
  // The client's redirect URI: a loopback listener, as a native app or a local dev server has.
  callback = createServer((_, response) => {
    response.writeHead(200, { "Content-Type": "text/html" });
    response.end("<!doctype html><title>callback</title><p>back at the client</p>");
  });
  await new Promise((resolve) => callback.listen(callbackPort, "127.0.0.1", resolve));
  browser = await launchChromium(chromium);
});

after(async () => {
  await browser?.close();
  callback?.close();
  server?.stop();
});

async function discover() {
  const issuer = new URL(server.origin);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
}

async function authorizationUrl(as, client, redirectUri, extra = {}) {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint);
  const params = {
    client_id: client.client_id,
    redirect_uri: redirectUri,
    response_type: "code",
    scope: "openid email",
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    ...extra,
  };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return { url, verifier, state, nonce };
}

/** A public client registered through RFC 7591, as oauth4webapi sees it. */
async function registerPublicClient(as, name, redirectUri) {
  const registered = await oauth.processDynamicClientRegistrationResponse(
    await oauth.dynamicClientRegistrationRequest(
      as,
      { client_name: name, redirect_uris: [redirectUri], token_endpoint_auth_method: "none" },
      insecure,
    ),
  );
  return { client_id: registered.client_id };
}

/** The callback URL's code, checked and exchanged (PKCE, nonce, ID token required). */
async function redeem(as, client, callbackUrl, redirectUri, flow) {
  const params = oauth.validateAuthResponse(as, client, callbackUrl, flow.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(),
    params,
    redirectUri,
    flow.verifier,
    insecure,
  );
  return oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: flow.nonce,
    requireIdToken: true,
  });
}

test("a registered client gets a code through the hosted login and consent pages; Deny answers access_denied", {
  skip,
}, async () => {
  const as = await discover();
  const redirectUri = `http://127.0.0.1:${callbackPort}/callback`;
  const client = await registerPublicClient(as, "Browser test app", redirectUri);
  const email = `oauth-browser-${Date.now()}@example.com`;
  await signUpAndVerify(server.api, email);

  const context = await browser.newContext();
  const page = await context.newPage();
  const first = await authorizationUrl(as, client, redirectUri);
  await page.goto(first.url.toString());
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.screenshot({ path: join(tmpdir(), "edgelock-oauth-login.png") });
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForSelector("text=Browser test app wants to access your account");
  await page.screenshot({ path: join(tmpdir(), "edgelock-oauth-consent.png") });
  await page.getByRole("button", { name: "Allow" }).click();
  await page.waitForURL((url) => url.origin === `http://127.0.0.1:${callbackPort}`);

  const tokens = await redeem(as, client, new URL(page.url()), redirectUri, first);
  const claims = oauth.getValidatedIdTokenClaims(tokens);
  assert.equal(claims.email, email);
  assert.equal(claims.aud, client.client_id);

  // Consent is remembered; prompt=consent asks again, and this time the user says no.
  const second = await authorizationUrl(as, client, redirectUri, { prompt: "consent" });
  await page.goto(second.url.toString());
  await page.getByRole("button", { name: "Deny" }).click();
  await page.waitForURL((url) => url.origin === `http://127.0.0.1:${callbackPort}`);
  const denied = new URL(page.url());
  assert.equal(denied.searchParams.get("error"), "access_denied");
  assert.equal(denied.searchParams.get("state"), second.state);
  assert.equal(denied.searchParams.get("iss"), as.issuer);
  assert.equal(denied.searchParams.get("code"), null);
  await context.close();
});

test("the login page's links lead to working signup and password-reset pages", { skip }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.origin}/auth/signup`);
  const email = `signup-page-${Date.now()}@example.com`;
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.waitForFunction(() => document.getElementById("status")?.textContent?.startsWith("Check your inbox"));
  await page.screenshot({ path: join(tmpdir(), "edgelock-signup-page.png") });
  const mails = await (await fetch(`${server.api}/_dev/outbox?to=${encodeURIComponent(email)}`)).json();
  assert.match(mails[0].text, /\/auth\/verify-email\?token=/);

  await page.goto(`${server.origin}/auth/password-reset/request`);
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Send the link" }).click();
  await page.waitForFunction(() => document.getElementById("status")?.textContent?.startsWith("If an account"));
  await context.close();
});

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) of a base32 secret at time step `step`, computed here, apart from the server. */
function totp(secret, step) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of secret.replace(/=+$/, "")) bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => Number.parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

test("a user with two-step login on is asked for the code between login and consent", { skip }, async () => {
  const as = await discover();
  const redirectUri = `http://127.0.0.1:${callbackPort}/callback`;
  const client = await registerPublicClient(as, "MFA test app", redirectUri);
  const email = `mfa-browser-${Date.now()}@example.com`;
  await signUpAndVerify(server.api, email);
  const post = (path, body, token) =>
    fetch(`${server.api}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const login = await (await post("/auth/login", { email, password: PASSWORD })).json();
  const enrolment = await post("/auth/mfa/totp", {}, login.access_token);
  assert.equal(enrolment.status, 201);
  const { secret } = await enrolment.json();
  const step = Math.floor(Date.now() / 30_000);
  assert.equal((await post("/auth/mfa/totp/confirm", { code: totp(secret, step) }, login.access_token)).status, 200);

  const context = await browser.newContext();
  const page = await context.newPage();
  const flow = await authorizationUrl(as, client, redirectUri);
  await page.goto(flow.url.toString());
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForSelector("text=Enter the 6-digit code");
  await page.screenshot({ path: join(tmpdir(), "edgelock-oauth-mfa.png") });
  // The code just used to confirm is spent: the page says so and stays.
  await page.getByLabel("Code", { exact: true }).fill(totp(secret, step));
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForSelector("text=That code is not right");
  // The next step's code is within the accepted window and later than any used.
  await page.getByLabel("Code", { exact: true }).fill(totp(secret, step + 1));
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForSelector("text=MFA test app wants to access your account");
  await page.getByRole("button", { name: "Allow" }).click();
  await page.waitForURL((url) => url.origin === `http://127.0.0.1:${callbackPort}`);

  const tokens = await redeem(as, client, new URL(page.url()), redirectUri, flow);
  const claims = oauth.getValidatedIdTokenClaims(tokens);
  assert.deepEqual(claims.amr, ["pwd", "otp", "mfa"]);
  assert.equal(claims.acr, "urn:edgelock:acr:mfa");
  await context.close();
});

/** Waits until `pattern` matches what the child has written to `stream`; answers the match. */
async function waitForOutput(child, stream, pattern, timeoutMs = 30_000) {
  let seen = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in: ${seen}`)), timeoutMs);
    child[stream].on("data", (chunk) => {
      seen += chunk;
      const match = pattern.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
  });
}

test("the CLI logs in with the device grant: chromium enters the printed code and approves; whoami names the user", {
  skip,
}, async () => {
  const email = `device-cli-${Date.now()}@example.com`;
  await signUpAndVerify(server.api, email);
  const configHome = mkdtempSync(join(tmpdir(), "edgelock-cli-e2e-"));
  const env = { ...process.env, XDG_CONFIG_HOME: configHome };
  const cliArgs = (...args) => ["examples/cli/edgelock.mjs", ...args, "--issuer", server.origin];
  try {
    const login = spawn(process.execPath, cliArgs("login", "--no-browser"), { env });
    let stdout = "";
    login.stdout.on("data", (chunk) => (stdout += chunk));
    const exited = once(login, "exit");
    const [, userCode, url] = await waitForOutput(login, "stderr", /one-time code: (\S+)\nOpen (\S+) in a browser/);
    assert.equal(url, `${server.origin}/device`);

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url);
    await page.getByLabel("Code").fill(userCode.toLowerCase());
    await page.screenshot({ path: join(tmpdir(), "edgelock-device-code.png") });
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForSelector("text=Connect edgelock CLI to your account?");
    assert.equal(await page.locator("#user_code").textContent(), userCode);
    await page.screenshot({ path: join(tmpdir(), "edgelock-device-confirm.png"), fullPage: true });
    await page.getByRole("button", { name: "Approve" }).click();
    await page.waitForSelector("text=Device connected");
    await page.screenshot({ path: join(tmpdir(), "edgelock-device-done.png") });
    await context.close();

    const [code] = await exited;
    assert.equal(code, 0);
    assert.equal(stdout, `Logged in as ${email}\n`);
    assert.equal(statSync(join(configHome, "edgelock", "hosts.json")).mode & 0o777, 0o600);
    const whoami = spawnSync(process.execPath, cliArgs("whoami"), { env, encoding: "utf8" });
    assert.equal(whoami.status, 0, whoami.stderr);
    assert.equal(whoami.stdout, `${email}\n`);
    // Logging out revokes the refresh token: the session is gone at the server too.
    const logout = spawnSync(process.execPath, cliArgs("logout"), { env, encoding: "utf8" });
    assert.equal(logout.status, 0, logout.stderr);
    assert.equal(spawnSync(process.execPath, cliArgs("whoami"), { env, encoding: "utf8" }).status, 1);
  } finally {
    rmSync(configHome, { recursive: true, force: true });
  }
});
