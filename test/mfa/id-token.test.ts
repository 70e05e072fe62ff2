// Two-step login through the hosted pages of the OAuth / OpenID Connect flow:
// the login page leads to the MFA page, and the ID token and access token that
// the code buys say how the user authenticated (amr: pwd, otp, mfa).
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { PASSWORD } from "../helpers";
import { exchange, newPublicClient, startFlow } from "../oauth/flow";
import { pageFields, TestBrowser } from "../oauth/oauth-helpers";
import { codeFor, newMfaUser, wrongCodeFor } from "./support";

async function toMfaPage(
  browser: TestBrowser,
  url: string,
  email: string,
): Promise<{ interaction: string; mfaToken: string }> {
  const loginPage = await browser.get(url);
  expect(loginPage.status).toBe(200);
  const { interaction } = pageFields(await loginPage.text());
  const answered = await browser.submit(`/oauth/interaction/${interaction}/login`, { email, password: PASSWORD });
  expect(answered.status).toBe(200);
  const html = await answered.text();
  expect(html).toContain("Two-step login");
  const mfaToken = /name="mfa_token" value="([^"]+)"/.exec(html)?.[1];
  if (!mfaToken) throw new Error("no mfa_token on the MFA page");
  // No session yet: the password alone started nothing.
  expect(browser.cookie).toBeNull();
  return { interaction, mfaToken };
}

describe("the hosted login with two-step login on", () => {
  it("asks for a code after the password; the ID token's amr then has otp and mfa", async () => {
    const user = await newMfaUser();
    const client = await newPublicClient();
    const flow = await startFlow(client);
    const browser = new TestBrowser();
    const { interaction, mfaToken } = await toMfaPage(browser, flow.url.toString(), user.email);

    const wrong = await browser.submit(`/oauth/interaction/${interaction}/mfa`, {
      mfa_token: mfaToken,
      code: await wrongCodeFor(user.secret),
    });
    expect(wrong.status).toBe(401);
    expect(browser.cookie).toBeNull();

    const done = await browser.submit(`/oauth/interaction/${interaction}/mfa`, {
      mfa_token: mfaToken,
      code: await codeFor(user.secret),
    });
    expect(done.status).toBe(303);
    expect(browser.cookie).not.toBeNull();
    const consent = await browser.get(done.headers.get("Location") as string);
    expect(consent.status).toBe(200);
    const fields = pageFields(await consent.text());
    const allowed = await browser.submit(`/oauth/interaction/${fields.interaction}/consent`, {
      csrf_token: fields.csrf as string,
      decision: "allow",
    });
    expect(allowed.status).toBe(303);
    const tokens = await exchange(flow, new URL(allowed.headers.get("Location") as string));

    const idToken = decodeJwt(tokens.id_token as string);
    expect(idToken.sub).toBe(user.user.id);
    expect(idToken.amr).toEqual(expect.arrayContaining(["pwd", "otp", "mfa"]));
    expect(decodeJwt(tokens.access_token).amr).toEqual(expect.arrayContaining(["pwd", "otp", "mfa"]));
  });
});
