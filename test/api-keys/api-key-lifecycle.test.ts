// API keys against account recovery (#17, item 2): minting one needs a fresh
// authentication and mails the owner; keys expire by default and within a
// maximum; a password reset ends them, and logout-all can.
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import {
  BASE,
  bearer,
  expectError,
  jsonRequest,
  newAdmin,
  outbox,
  PASSWORD,
  postJson,
  send,
  sendWithEnv,
} from "../helpers";

const DAY = 86_400_000;

function createKey(token: string, body: Record<string, unknown> = {}): Promise<Response> {
  return postJson("/auth/api-keys", { name: "ci", scopes: ["users:read"], ...body }, bearer(token));
}

/** Makes the session's login look `ms` old, and returns an access token minted from it. */
async function agedSession(ms: number): Promise<{ token: string; email: string }> {
  const admin = await newAdmin();
  const sid = String(decodeJwt(admin.access_token).sid);
  await env.DB.prepare("UPDATE sessions SET auth_time = auth_time - ? WHERE id = ?").bind(ms, sid).run();
  const refreshed = await postJson("/auth/refresh", { refresh_token: admin.refresh_token });
  expect(refreshed.status).toBe(200);
  return { token: ((await refreshed.json()) as { access_token: string }).access_token, email: admin.email };
}

function useKey(key: string): Promise<Response> {
  return send(new Request(`${BASE}/admin/users`, { headers: bearer(key) }));
}

describe("minting an API key", () => {
  it("needs a login within 5 minutes: an older one gets 401 insufficient_user_authentication with max_age", async () => {
    const { token } = await agedSession(10 * 60_000);
    const response = await createKey(token);
    await expectError(response, 401, "insufficient_user_authentication");
    expect(response.headers.get("WWW-Authenticate")).toBe(
      'Bearer realm="edgelock", error="insufficient_user_authentication", max_age="300"',
    );
  });

  it("accepts the password instead of a fresh login, and refuses a wrong one against the login budget", async () => {
    const { token } = await agedSession(10 * 60_000);
    await expectError(await createKey(token, { password: "not my password at all" }), 403, "invalid_credentials");
    expect((await createKey(token, { password: PASSWORD })).status).toBe(201);
  });

  it("mails the owner, after the response", async () => {
    const admin = await newAdmin();
    const response = await sendWithEnv(
      {},
      jsonRequest("/auth/api-keys", { name: "deploy bot", scopes: ["users:read"] }, bearer(admin.access_token)),
    );
    expect(response.status).toBe(201);
    const { prefix } = (await response.json()) as { prefix: string };
    const notice = (await outbox(admin.email)).find((m) => m.subject === "A new API key was created for your account");
    expect(notice?.text).toContain(`"deploy bot" (${prefix}…)`);
    expect(notice?.text).toContain("users:read");
  });

  it("expires after the default lifetime unless asked otherwise, and never beyond the maximum", async () => {
    const admin = await newAdmin();
    const before = Date.now();
    const plain = (await (await createKey(admin.access_token)).json()) as { expires_at: string };
    const expires = Date.parse(plain.expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 90 * DAY);
    expect(expires).toBeLessThanOrEqual(Date.now() + 90 * DAY);
    const tooLong = new Date(Date.now() + 400 * DAY).toISOString();
    const { error_description } = await expectError(
      await createKey(admin.access_token, { expires_at: tooLong }),
      400,
      "invalid_request",
    );
    expect(error_description).toContain("365 days");
    const shorter = await sendWithEnv(
      { API_KEY_DEFAULT_TTL_DAYS: "7" },
      jsonRequest("/auth/api-keys", { name: "ci", scopes: ["users:read"] }, bearer(admin.access_token)),
    );
    expect(Date.parse(((await shorter.json()) as { expires_at: string }).expires_at)).toBeLessThanOrEqual(
      Date.now() + 7 * DAY,
    );
  });
});

describe("account recovery ends API keys", () => {
  it("a password reset revokes every key, and the mail says how many", async () => {
    const admin = await newAdmin();
    const { key } = (await (await createKey(admin.access_token)).json()) as { key: string };
    expect((await useKey(key)).status).toBe(200);
    const requested = await sendWithEnv({}, jsonRequest("/auth/password-reset", { email: admin.email }));
    expect(requested.status).toBe(202);
    const link = (await outbox(admin.email)).find((m) => m.subject === "Reset your password");
    const token = /token=([A-Za-z0-9_-]+)/.exec(link?.text ?? "")?.[1];
    const confirmed = await sendWithEnv(
      {},
      jsonRequest("/auth/password-reset/confirm", { token, password: "a brand new passphrase" }),
    );
    expect(confirmed.status).toBe(200);
    await expectError(await useKey(key), 401, "invalid_token");
    const mail = (await outbox(admin.email)).find((m) => m.subject === "Your password was reset");
    expect(mail?.text).toContain("1 API key was revoked");
  });

  it("refuses to mint with a token older than the account's last reset, even before KV says so", async () => {
    const admin = await newAdmin();
    // A reset raised the D1 marker; the revocation list has not reached this location yet.
    await env.DB.prepare("UPDATE users SET tokens_not_before = ? WHERE id = ?")
      .bind(Date.now() + 1000, admin.user.id)
      .run();
    await expectError(await createKey(admin.access_token), 401, "invalid_token");
  });

  it("logout-all ends keys only when asked with api_keys: true", async () => {
    const admin = await newAdmin();
    const { key } = (await (await createKey(admin.access_token)).json()) as { key: string };
    expect((await postJson("/auth/logout-all", {}, bearer(admin.access_token))).status).toBe(204);
    expect((await useKey(key)).status).toBe(200);
    const again = await newAdminLogin(admin.email);
    expect((await postJson("/auth/logout-all", { api_keys: true }, bearer(again))).status).toBe(204);
    await expectError(await useKey(key), 401, "invalid_token");
  });
});

async function newAdminLogin(email: string): Promise<string> {
  const response = await postJson("/auth/login", { email, password: PASSWORD });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}
