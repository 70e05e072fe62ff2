// Real-browser tests of cookie sessions and the mailed-link pages: Debian's chromium driven by playwright-core
// against `wrangler dev` on localhost. Run by `npm test` after the workerd suite.
//   1. log in through the demo page the Worker serves in development;
//   2. call a protected route with the cookie;
//   3. a form on another origin posts to a state-changing route without the CSRF
//      token: refused (403 csrf_failed), and the session survives;
// then the mailed-link pages (verify email, reset password, magic link), and the
// hosted login's "Email me a link" through to consent.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
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

let server;
let browser;
let attacker;
let port;
let attackerPort;

before(async () => {
  if (skip) return;
  server = await startDevServer();
  port = server.port;
  const origin = server.origin;
  attackerPort = await freePort();
  // The attacker's page: another origin (same site: localhost, other port), so the
  // browser does attach the Lax session cookie to its form post. Only the CSRF check stands in the way.
  attacker = createServer((_, response) => {
    response.writeHead(200, { "Content-Type": "text/html" });
    response.end(`<!doctype html><form id="f" method="POST" action="${origin}/auth/logout-all"></form>
<script>document.getElementById("f").submit()</script>`);
  });
  await new Promise((resolve) => attacker.listen(attackerPort, "127.0.0.1", resolve));
  browser = await launchChromium(chromium);
});

after(async () => {
  await browser?.close();
  attacker?.close();
  server?.stop();
});

test("a browser logs in with a cookie session, and a cross-origin form post without the CSRF token is refused", {
  skip,
}, async () => {
  const base = `http://localhost:${port}`;
  const email = `browser-${Date.now()}@example.com`;
  await signUpAndVerify(`http://127.0.0.1:${port}`, email);

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/_dev/demo`);
  await page.fill("#email", email);
  await page.fill("#password", PASSWORD);
  await page.click("button[type=submit]");
  await page.waitForFunction(() => document.getElementById("status")?.textContent?.startsWith("logged in"));

  // The cookie is set as promised, and script cannot read it.
  const [cookie] = await context.cookies(base);
  assert.equal(cookie.name, "__Host-edgelock_session");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.secure, true);
  assert.equal(cookie.sameSite, "Lax");
  assert.equal(await page.evaluate(() => document.cookie), "");

  // A protected route, with nothing but the cookie.
  await page.click("#whoami");
  await page.waitForFunction((expected) => document.getElementById("me")?.textContent === expected, email);

  // A state-changing call from the page itself, with the CSRF token: accepted.
  await page.click("#token");
  await page.waitForFunction(() => document.getElementById("status")?.textContent === "got an access token");

  // Another origin's form posts to logout-all. The browser sends the cookie; the CSRF check refuses.
  const evil = await context.newPage();
  const posted = evil.waitForResponse((response) => response.url().endsWith("/auth/logout-all"));
  await evil.goto(`http://localhost:${attackerPort}/`);
  const response = await posted;
  assert.equal(response.status(), 403);
  assert.equal((await response.json()).error, "csrf_failed");

  // The session survived the attempt.
  await page.evaluate(() => {
    document.getElementById("me").textContent = "";
  });
  await page.click("#whoami");
  await page.waitForFunction((expected) => document.getElementById("me")?.textContent === expected, email);
  await context.close();
});

test("the mailed-link pages work in a browser: confirm with the signup's password, reset with a new one", {
  skip,
}, async () => {
  const api = `http://127.0.0.1:${port}`;
  const email = `pages-${Date.now()}@example.com`;
  const post = (path, body) =>
    fetch(`${api}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  const linkIn = async (pattern) => {
    const mails = await (await fetch(`${api}/_dev/outbox?to=${encodeURIComponent(email)}`)).json();
    return mails
      .map((mail) => pattern.exec(mail.text)?.[0])
      .filter(Boolean)
      .at(-1);
  };
  assert.equal((await post("/auth/signup", { email, password: PASSWORD })).status, 202);
  const verifyLink = await linkIn(/https?:\/\/\S+\/auth\/verify-email\?token=[A-Za-z0-9_-]+/);
  assert.ok(verifyLink, "no verification link");

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(verifyLink);
  // The wrong password is refused and says why; the link survives it.
  await page.getByLabel("Password").fill("not the signup password");
  await page.click("button[type=submit]");
  await page.waitForFunction(() => /not the one chosen/.test(document.getElementById("status")?.textContent ?? ""));
  await page.getByLabel("Password").fill(PASSWORD);
  await page.click("button[type=submit]");
  await page.waitForFunction(() => document.getElementById("status")?.textContent?.includes("is confirmed"));
  await page.screenshot({ path: join(tmpdir(), "edgelock-verify-page.png") });
  assert.equal((await post("/auth/login", { email, password: PASSWORD })).status, 200);

  assert.equal((await post("/auth/password-reset", { email })).status, 202);
  let resetLink;
  for (let i = 0; i < 50 && !resetLink; i++) {
    resetLink = await linkIn(/https?:\/\/\S+\/auth\/password-reset\?token=[A-Za-z0-9_-]+/);
    if (!resetLink) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(resetLink, "no reset link");
  await page.goto(resetLink);
  await page.getByLabel("New password").fill("a new passphrase for the browser");
  await page.click("button[type=submit]");
  await page.waitForFunction(() => document.getElementById("status")?.textContent?.includes("has been changed"));
  assert.equal((await post("/auth/login", { email, password: "a new passphrase for the browser" })).status, 200);
  await context.close();
});

test("a mailed magic link signs the browser in: open it, press the button, land with a cookie session", {
  skip,
}, async () => {
  const api = `http://127.0.0.1:${port}`;
  const base = `http://localhost:${port}`;
  const email = `magic-${Date.now()}@example.com`;
  await signUpAndVerify(api, email);
  const asked = await fetch(`${api}/auth/magic-link`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, mode: "cookie" }),
  });
  assert.equal(asked.status, 202);
  // Mailed after the response: wait for it in the development outbox.
  let link;
  for (let i = 0; i < 50 && !link; i++) {
    const mails = await (await fetch(`${api}/_dev/outbox?to=${encodeURIComponent(email)}`)).json();
    link = mails
      .map((mail) => /https?:\/\/\S+\/auth\/magic-link\?token=[A-Za-z0-9_-]+/.exec(mail.text)?.[0])
      .filter(Boolean)
      .at(-1);
    if (!link) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(link, "no magic link");
  assert.ok(link.startsWith(`${base}/`), `the link is built from PUBLIC_URL: ${link}`);

  const context = await browser.newContext();
  const page = await context.newPage();
  const opened = await page.goto(link);
  assert.equal(opened.status(), 200);
  assert.equal(opened.headers()["referrer-policy"], "no-referrer");
  // Opening it set nothing: no cookie until the button is pressed.
  assert.deepEqual(await context.cookies(base), []);
  await page.screenshot({ path: join(tmpdir(), "edgelock-magic-link-page.png") });
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForFunction(() => document.getElementById("status")?.textContent?.startsWith("Signed in as"));
  assert.equal(await page.textContent("h1"), "You are signed in");
  await page.screenshot({ path: join(tmpdir(), "edgelock-magic-link-signed-in.png") });

  const [cookie] = await context.cookies(base);
  assert.equal(cookie?.name, "__Host-edgelock_session");
  assert.equal(cookie.httpOnly, true);
  // Logged in: a protected route answers with nothing but the cookie.
  const me = await page.evaluate(async () => (await fetch("/auth/me")).json());
  assert.equal(me.user.email, email);
  assert.equal(me.user.email_verified, true);

  // The link was spent: opening it again shows that it cannot be used.
  const again = await page.goto(link);
  assert.equal(again.status(), 400);
  assert.match(await page.textContent("h1"), /cannot be used/);
  await context.close();
});

test("the hosted login's Email me a link: the link opened in a second tab signs the browser in, and Continue reaches consent", {
  skip,
}, async () => {
  const api = `http://127.0.0.1:${port}`;
  const base = `http://localhost:${port}`;
  const email = `hosted-magic-${Date.now()}@example.com`;
  await signUpAndVerify(api, email);
  // A public client registered through RFC 7591 (open in development); its callback is answered by the test.
  const redirectUri = "http://127.0.0.1:9/callback";
  const registered = await fetch(`${api}/oauth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      client_name: "Magic link app",
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: "none",
    }),
  });
  assert.equal(registered.status, 201);
  const { client_id } = await registered.json();
  const verifier = randomBytes(32).toString("base64url");
  const authorize = new URL(`${base}/oauth/authorize`);
  for (const [name, value] of Object.entries({
    client_id,
    redirect_uri: redirectUri,
    response_type: "code",
    scope: "openid email",
    state: "s-magic",
    nonce: "n-magic",
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
  })) {
    authorize.searchParams.set(name, value);
  }

  const context = await browser.newContext();
  await context.route(`${redirectUri}**`, (route) =>
    route.fulfill({ status: 200, contentType: "text/html", body: "<p>back at the client</p>" }),
  );
  const page = await context.newPage();
  await page.goto(authorize.toString());
  await page.getByLabel("Email").fill(email);
  await page.screenshot({ path: join(tmpdir(), "edgelock-hosted-login-magic-link.png") });
  await page.getByRole("button", { name: "Email me a link instead" }).click();
  await page.waitForSelector("text=Check your inbox");
  await page.screenshot({ path: join(tmpdir(), "edgelock-hosted-magic-link-inbox.png") });

  let link;
  for (let i = 0; i < 50 && !link; i++) {
    const mails = await (await fetch(`${api}/_dev/outbox?to=${encodeURIComponent(email)}`)).json();
    link = mails
      .map((mail) => /https?:\/\/\S+\/auth\/magic-link\?token=[A-Za-z0-9_-]+/.exec(mail.text)?.[0])
      .filter(Boolean)
      .at(-1);
    if (!link) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(link, "no magic link");
  const tab = await context.newPage();
  await tab.goto(link);
  await tab.getByRole("button", { name: "Sign in" }).click();
  await tab.waitForFunction(() => document.getElementById("status")?.textContent?.startsWith("Signed in as"));
  await tab.close();

  await page.getByRole("link", { name: "Continue here" }).click();
  await page.waitForSelector("text=Magic link app wants to access your account");
  await page.getByRole("button", { name: "Allow" }).click();
  await page.waitForURL((url) => url.href.startsWith(redirectUri));
  const back = new URL(page.url());
  assert.equal(back.searchParams.get("state"), "s-magic");
  assert.match(back.searchParams.get("code") ?? "", /^[A-Za-z0-9_-]{43}$/);
  await context.close();
});
