// The device authorization grant (RFC 8628) as its tests drive it: device
// clients made through the admin API, the device_authorization request, polls
// of the token endpoint, and the user's side on /device through TestBrowser.
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { PASSWORD } from "../helpers";
import { createClient, pageFields, postForm, type TestBrowser } from "./oauth-helpers";

export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

export interface DeviceStart {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** A public device client (a CLI, a TV app) with refresh tokens; not first-party unless asked. */
export function newDeviceClient(extra: Record<string, unknown> = {}) {
  return createClient({
    client_name: "TV app",
    token_endpoint_auth_method: "none",
    grant_types: [DEVICE_GRANT, "refresh_token"],
    scope: "openid email offline_access",
    ...extra,
  });
}

export async function startDevice(
  clientId: string,
  fields: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<DeviceStart> {
  const response = await postForm(
    "/oauth/device_authorization",
    { client_id: clientId, scope: "openid email offline_access", ...fields },
    headers,
  );
  expect(response.status).toBe(200);
  return response.json();
}

/** One poll of the token endpoint. */
export function poll(clientId: string, deviceCode: string, headers: Record<string, string> = {}) {
  return postForm("/oauth/token", { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: clientId }, headers);
}

/** The poll's `error`, or "tokens" for a 200. */
export async function pollResult(response: Response): Promise<string> {
  const body = (await response.json()) as { error?: string };
  if (response.status === 200) return "tokens";
  expect(response.status).toBe(body.error === "invalid_client" ? 401 : 400);
  return body.error as string;
}

/** The row of a device authorization, by its user code as shown. */
export async function deviceRow(userCode: string) {
  return env.DB.prepare("SELECT * FROM device_authorizations WHERE user_code = ?")
    .bind(userCode.replace("-", ""))
    .first<{ status: string; interval_seconds: number; last_polled_at: number | null; device_code_hash: string }>();
}

/** Types the code on /device: the 303 to its interaction (a code that names nothing fails the test). */
export async function enterCode(browser: TestBrowser, userCode: string): Promise<string> {
  const entered = await browser.submit("/device", { user_code: userCode });
  expect(entered.status).toBe(303);
  return entered.headers.get("Location") as string;
}

/** From the interaction's login page, logged in with the password: the confirmation page's fields. */
export async function logInOnDevicePage(browser: TestBrowser, location: string, email: string) {
  const login = await browser.get(location);
  expect(login.status).toBe(200);
  const { interaction } = pageFields(await login.text());
  const loggedIn = await browser.submit(`/oauth/interaction/${interaction}/login`, { email, password: PASSWORD });
  expect(loggedIn.status).toBe(303);
  return confirmationOf(browser, loggedIn.headers.get("Location") as string);
}

/** The confirmation page at `location`: its html and form fields. */
export async function confirmationOf(browser: TestBrowser, location: string) {
  const page = await browser.get(location);
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain('name="decision" value="approve"');
  return { html, ...pageFields(html) };
}

/** The whole user side: enter the code, log in, answer. */
export async function answerOnDevicePage(
  browser: TestBrowser,
  userCode: string,
  email: string,
  decision: "approve" | "deny" = "approve",
): Promise<Response> {
  const fields = await logInOnDevicePage(browser, await enterCode(browser, userCode), email);
  return browser.submit(`/oauth/interaction/${fields.interaction}/device`, {
    csrf_token: fields.csrf as string,
    decision,
  });
}
