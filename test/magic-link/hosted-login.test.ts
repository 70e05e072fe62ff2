// "Email me a link" on the hosted login of the authorization flow: the login
// page's second button mails a link (cookie mode), the inbox page takes the
// mailed code, and either the code or the link opened in the same browser
// brings the authorization request on to consent and the client's code.
import { decodeJwt } from "jose";
import { describe, expect, it, vi } from "vitest";
import { freshEmail, outbox, signupAndVerify } from "../helpers";
import { codeFor, newMfaUser } from "../mfa/support";
import { exchange, newPublicClient, startFlow } from "../oauth/flow";
import { pageFields, TestBrowser } from "../oauth/oauth-helpers";
import { latestLinkMail, type Mailed, otherCode, verify } from "./support";

async function openLogin(browser: TestBrowser) {
  const client = await newPublicClient();
  const flow = await startFlow(client);
  const page = await browser.get(flow.url.toString());
  expect(page.status).toBe(200);
  const html = await page.text();
  return { flow, html, interaction: pageFields(html).interaction };
}

/** The mail is sent after the response: wait for it. */
function mailTo(email: string): Promise<Mailed> {
  return vi.waitFor(async () => {
    const mailed = await latestLinkMail(email);
    if (!mailed) throw new Error("no mail yet");
    return mailed;
  });
}

/** Allows on the consent page the interaction shows now; answers the redirect to the client. */
async function consent(browser: TestBrowser, interaction: string): Promise<URL> {
  const page = await browser.get(`/oauth/interaction/${interaction}`);
  expect(page.status).toBe(200);
  const fields = pageFields(await page.text());
  expect(fields.csrf).not.toBeNull();
  const answered = await browser.submit(`/oauth/interaction/${fields.interaction}/consent`, {
    csrf_token: fields.csrf as string,
    decision: "allow",
  });
  expect(answered.status).toBe(303);
  return new URL(answered.headers.get("Location") as string);
}

describe("the hosted login's Email me a link", () => {
  it("offers the option on the login page", async () => {
    const { html, interaction } = await openLogin(new TestBrowser());
    expect(html).toContain(`formaction="/oauth/interaction/${interaction}/magic-link"`);
    expect(html).toContain("Email me a link instead");
  });

  it("mails a link and a code, and the code logs in and carries the request on to the client", async () => {
    const email = await signupAndVerify();
    const browser = new TestBrowser();
    const { flow, interaction } = await openLogin(browser);
    const sent = await browser.submit(`/oauth/interaction/${interaction}/magic-link`, { email, password: "" });
    expect(sent.status).toBe(200);
    const inbox = await sent.text();
    expect(inbox).toContain("Check your inbox");
    expect(inbox).toContain(`action="/oauth/interaction/${interaction}/magic-link/code"`);
    const { code } = await mailTo(email);
    const loggedIn = await browser.submit(`/oauth/interaction/${interaction}/magic-link/code`, { email, code });
    expect(loggedIn.status).toBe(303);
    expect(loggedIn.headers.get("Location")).toBe(`/oauth/interaction/${interaction}`);
    expect(browser.cookie).toMatch(/^__Host-edgelock_session=/);
    const result = await exchange(flow, await consent(browser, interaction));
    expect(decodeJwt(result.access_token).amr).toEqual(["email"]);
  });

  it("answers an unknown address with the same page, and mails nothing", async () => {
    const email = freshEmail("nobody");
    const browser = new TestBrowser();
    const { interaction } = await openLogin(browser);
    const sent = await browser.submit(`/oauth/interaction/${interaction}/magic-link`, { email });
    expect(sent.status).toBe(200);
    expect(await sent.text()).toContain("Check your inbox");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await outbox(email)).toEqual([]);
  });

  it("lets the link, opened in the same browser, sign it in; Continue then finds the session", async () => {
    const email = await signupAndVerify();
    const browser = new TestBrowser();
    const { flow, interaction } = await openLogin(browser);
    await browser.submit(`/oauth/interaction/${interaction}/magic-link`, { email });
    const { token } = await mailTo(email);
    // What the link's page does in the browser: POST the token; the cookie lands in the same jar.
    const signedIn = await verify({ token });
    expect(signedIn.status).toBe(200);
    browser.cookie = /(__Host-edgelock_session=[^;]+)/.exec(signedIn.headers.get("Set-Cookie") ?? "")?.[1] ?? null;
    const result = await exchange(flow, await consent(browser, interaction));
    expect(result.access_token).toEqual(expect.any(String));
  });

  it("explains a wrong code on the inbox page, and the right one still works", async () => {
    const email = await signupAndVerify();
    const browser = new TestBrowser();
    const { interaction } = await openLogin(browser);
    await browser.submit(`/oauth/interaction/${interaction}/magic-link`, { email });
    const { code } = await mailTo(email);
    const wrong = await browser.submit(`/oauth/interaction/${interaction}/magic-link/code`, {
      email,
      code: otherCode(code),
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain("That code is not right");
    const malformed = await browser.submit(`/oauth/interaction/${interaction}/magic-link/code`, { email, code: "12" });
    expect(malformed.status).toBe(400);
    const right = await browser.submit(`/oauth/interaction/${interaction}/magic-link/code`, { email, code });
    expect(right.status).toBe(303);
  });

  it("shows the login page again for a missing or malformed address", async () => {
    const browser = new TestBrowser();
    const { interaction } = await openLogin(browser);
    const bodies: Record<string, string>[] = [{}, { email: "not an address" }];
    for (const fields of bodies) {
      const response = await browser.submit(`/oauth/interaction/${interaction}/magic-link`, fields);
      expect(response.status).toBe(400);
      expect(await response.text()).toContain("Enter your email address");
    }
  });

  it("refuses a cross-site post", async () => {
    const email = await signupAndVerify();
    const browser = new TestBrowser();
    const { interaction } = await openLogin(browser);
    const response = await browser.submit(
      `/oauth/interaction/${interaction}/magic-link`,
      { email },
      "https://evil.example",
    );
    expect(response.status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await latestLinkMail(email)).toBeNull();
  });

  it("asks a user with two-step login on for the code from the app", async () => {
    const user = await newMfaUser();
    const browser = new TestBrowser();
    const { interaction } = await openLogin(browser);
    await browser.submit(`/oauth/interaction/${interaction}/magic-link`, { email: user.email });
    const { code } = await mailTo(user.email);
    const second = await browser.submit(`/oauth/interaction/${interaction}/magic-link/code`, {
      email: user.email,
      code,
    });
    expect(second.status).toBe(200);
    const html = await second.text();
    expect(html).toContain("Two-step login");
    expect(browser.cookie).toBeNull();
    const mfaToken = /name="mfa_token" value="([^"]+)"/.exec(html)?.[1] ?? "";
    const done = await browser.submit(`/oauth/interaction/${interaction}/mfa`, {
      mfa_token: mfaToken,
      code: await codeFor(user.secret),
    });
    expect(done.status).toBe(303);
    expect(browser.cookie).toMatch(/^__Host-edgelock_session=/);
  });
});
