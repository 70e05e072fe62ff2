// Real-browser tests of cookie sessions and the mailed-link pages: Debian's chromium driven by playwright-core
// against `wrangler dev` on localhost. Run by `npm test` after the workerd suite.
//   1. log in through the demo page the Worker serves in development;
//   2. call a protected route with the cookie;
//   3. a form on another origin posts to a state-changing route without the CSRF
//      token: refused (403 csrf_failed), and the session survives.
import assert from "node:assert/strict";
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
