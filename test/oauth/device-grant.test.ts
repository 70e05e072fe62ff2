// The device authorization grant (RFC 8628) at the HTTP surface: the device
// authorization endpoint, every poll answer of §3.5, slow_down's interval
// growth and single redemption under concurrent polls, the client binding,
// and bad input (4xx with the RFC's codes, nothing changed).
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import * as oauth from "oauth4webapi";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/app/index";
import { BASE, bearer, expectError, send, sendWithEnv, signupAndVerify } from "../helpers";
import {
  answerOnDevicePage,
  DEVICE_GRANT,
  deviceRow,
  newDeviceClient,
  poll,
  pollResult,
  startDevice,
} from "./device-flow";
import { authorizationServer, basic, createClient, postForm, TestBrowser, viaWorker } from "./oauth-helpers";

/**
 * Freezes the clock at the real time (the Worker reads the same Date). Each
 * test starts from the real time again, so the file's admin token (10 min)
 * outlives the 10-minute jumps.
 */
function freezeClock(): void {
  const now = Date.now();
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(now);
}

function advance(seconds: number): void {
  vi.setSystemTime(Date.now() + seconds * 1000);
}

afterEach(() => {
  vi.useRealTimers();
});

async function deviceRows(): Promise<number> {
  return (await env.DB.prepare("SELECT COUNT(*) AS n FROM device_authorizations").first<{ n: number }>())?.n ?? 0;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

describe("POST /oauth/device_authorization", () => {
  it("is listed in discovery with the grant type, and answers RFC 8628 §3.2 through oauth4webapi", async () => {
    const as = await authorizationServer();
    expect(as.device_authorization_endpoint).toBe(`${BASE}/oauth/device_authorization`);
    expect(as.grant_types_supported).toContain(DEVICE_GRANT);
    const created = await newDeviceClient();
    const client = { client_id: created.client_id };
    const response = await oauth.deviceAuthorizationRequest(
      as,
      client,
      oauth.None(),
      { scope: "openid email offline_access" },
      viaWorker,
    );
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const started = await oauth.processDeviceAuthorizationResponse(as, client, response);
    expect(started.device_code).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(started.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(started.verification_uri).toBe(`${BASE}/device`);
    expect(started.verification_uri_complete).toBe(`${BASE}/device?user_code=${started.user_code}`);
    expect(started.expires_in).toBe(600);
    expect(started.interval).toBe(5);
    // The device code is kept only as its SHA-256.
    const row = await deviceRow(started.user_code);
    expect(row?.device_code_hash).toBe(await sha256Hex(started.device_code));
    expect(JSON.stringify(row)).not.toContain(started.device_code);
  });

  it("authenticates a confidential client as the token endpoint does", async () => {
    const created = await createClient({
      client_name: "Kiosk",
      grant_types: [DEVICE_GRANT],
      scope: "openid",
    });
    const secret = created.client_secret as string;
    const viaBasic = await postForm(
      "/oauth/device_authorization",
      { scope: "openid" },
      basic(created.client_id, secret),
    );
    expect(viaBasic.status).toBe(200);
    const withoutSecret = await postForm("/oauth/device_authorization", { client_id: created.client_id });
    await expectError(withoutSecret, 401, "invalid_client");
    expect(withoutSecret.headers.get("WWW-Authenticate")).toMatch(/^Basic /);
    const wrongSecret = await postForm("/oauth/device_authorization", {}, basic(created.client_id, "wrong"));
    await expectError(wrongSecret, 401, "invalid_client");
  });

  it("refuses bad requests with the RFC's codes and stores nothing", async () => {
    const created = await newDeviceClient({ scope: "openid email" });
    const codeOnly = await createClient({
      redirect_uris: ["https://app.example/cb"],
      token_endpoint_auth_method: "none",
    });
    const before = await deviceRows();
    const cases: [Record<string, string>, number, string][] = [
      [{}, 401, "invalid_client"],
      [{ client_id: "no-such-client" }, 401, "invalid_client"],
      [{ client_id: codeOnly.client_id }, 400, "unauthorized_client"],
      [{ client_id: created.client_id, scope: "openid offline_access" }, 400, "invalid_scope"],
      [{ client_id: created.client_id, scope: "open\u0001id" }, 400, "invalid_request"],
      [{ client_id: created.client_id, resource: "https://elsewhere.example" }, 400, "invalid_target"],
      [{ client_id: created.client_id, resource: "not a uri" }, 400, "invalid_target"],
    ];
    for (const [fields, status, error] of cases) {
      const response = await postForm("/oauth/device_authorization", fields);
      await expectError(response, status, error);
      expect(response.headers.get("Cache-Control")).toBe("no-store");
    }
    const repeated = await send(
      new Request(`${BASE}/oauth/device_authorization`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: `client_id=${created.client_id}&scope=openid&scope=email`,
      }),
    );
    await expectError(repeated, 400, "invalid_request");
    const json = await send(
      new Request(`${BASE}/oauth/device_authorization`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ client_id: created.client_id }),
      }),
    );
    await expectError(json, 400, "invalid_request");
    expect(await deviceRows()).toBe(before);
  });

  it("is registered by an administrator only: dynamic registration may not ask for the device grant", async () => {
    const registered = await send(
      new Request(`${BASE}/oauth/register`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          client_name: "Totally GitHub",
          token_endpoint_auth_method: "none",
          grant_types: [DEVICE_GRANT],
        }),
      }),
    );
    await expectError(registered, 400, "invalid_client_metadata");
  });
});

describe("polling the token endpoint (RFC 8628 §3.4-3.5)", () => {
  it("answers authorization_pending, then slow_down when polled sooner than the interval", async () => {
    freezeClock();
    const client = await newDeviceClient();
    const started = await startDevice(client.client_id);
    expect(await pollResult(await poll(client.client_id, started.device_code))).toBe("authorization_pending");
    advance(4);
    expect(await pollResult(await poll(client.client_id, started.device_code))).toBe("slow_down");
    // The interval is now 10 s: 9 s later is still too soon, 10 s later is not.
    advance(9);
    expect(await pollResult(await poll(client.client_id, started.device_code))).toBe("slow_down");
    advance(15);
    expect(await pollResult(await poll(client.client_id, started.device_code))).toBe("authorization_pending");
    expect((await deviceRow(started.user_code))?.interval_seconds).toBe(15);
  });

  it("grows the interval by exactly 5 s per slow_down under concurrent polls", async () => {
    freezeClock();
    const client = await newDeviceClient();
    const started = await startDevice(client.client_id);
    expect(await pollResult(await poll(client.client_id, started.device_code))).toBe("authorization_pending");
    advance(6);
    // Six at once, after the interval: one is on time, the five others each came too soon after it.
    const results = await Promise.all(
      Array.from({ length: 6 }, async () => pollResult(await poll(client.client_id, started.device_code))),
    );
    expect(results.filter((result) => result === "authorization_pending")).toHaveLength(1);
    expect(results.filter((result) => result === "slow_down")).toHaveLength(5);
    expect((await deviceRow(started.user_code))?.interval_seconds).toBe(5 + 5 * 5);
    // The grown interval holds for the next polls: 29 s is too soon (and adds 5 more), then 35 s is not.
    advance(29);
    expect(await pollResult(await poll(client.client_id, started.device_code))).toBe("slow_down");
    advance(35);
    expect(await pollResult(await poll(client.client_id, started.device_code))).toBe("authorization_pending");
  });

  it("gives tokens like the code flow once approved, to exactly one of concurrent polls; later polls are invalid_grant", async () => {
    freezeClock();
    const email = await signupAndVerify();
    const created = await newDeviceClient();
    const client = { client_id: created.client_id };
    const started = await startDevice(created.client_id);
    expect(await pollResult(await poll(created.client_id, started.device_code))).toBe("authorization_pending");
    const answered = await answerOnDevicePage(new TestBrowser(), started.user_code, email);
    expect(answered.status).toBe(200);
    advance(6);
    const responses: Response[] = await Promise.all(
      Array.from({ length: 5 }, () => poll(created.client_id, started.device_code)),
    );
    const winners = responses.filter((response) => response.status === 200);
    expect(winners).toHaveLength(1);
    const losers = responses.filter((response) => response.status !== 200);
    for (const response of losers) await expectError(response, 400, "invalid_grant");

    const as = await authorizationServer();
    const tokens = await oauth.processDeviceCodeResponse(as, client, winners[0] as Response);
    expect(tokens.scope).toBe("openid email offline_access");
    expect(tokens.refresh_token).toMatch(/^elr_/);
    const claims = oauth.getValidatedIdTokenClaims(tokens);
    expect(claims).toMatchObject({ iss: BASE, aud: created.client_id, email, amr: ["pwd"] });
    const userinfo = await oauth.userInfoRequest(as, client, tokens.access_token, viaWorker);
    expect(await oauth.processUserInfoResponse(as, client, claims?.sub as string, userinfo)).toMatchObject({ email });
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token as string, viaWorker),
    );
    expect(refreshed.access_token).toBeTruthy();

    advance(60);
    await expectError(await poll(created.client_id, started.device_code), 400, "invalid_grant");
    // The tokens are not revoked by the extra polls: the refreshed access token still works.
    const info = await send(new Request(`${BASE}/oauth/userinfo`, { headers: bearer(refreshed.access_token) }));
    expect(info.status).toBe(200);
  });

  it("answers access_denied once the user denies, and never gives tokens", async () => {
    freezeClock();
    const email = await signupAndVerify();
    const client = await newDeviceClient();
    const started = await startDevice(client.client_id);
    expect((await answerOnDevicePage(new TestBrowser(), started.user_code, email, "deny")).status).toBe(200);
    expect(await pollResult(await poll(client.client_id, started.device_code))).toBe("access_denied");
    advance(6);
    expect(await pollResult(await poll(client.client_id, started.device_code))).toBe("access_denied");
  });

  it("answers expired_token after 10 minutes, answered or not", async () => {
    freezeClock();
    const client = await newDeviceClient();
    const started = await startDevice(client.client_id);
    advance(600);
    expect(await pollResult(await poll(client.client_id, started.device_code))).toBe("expired_token");
    expect(await pollResult(await poll(client.client_id, started.device_code))).toBe("expired_token");
  });

  it("binds the code to its client: another client's poll is invalid_grant and changes nothing", async () => {
    freezeClock();
    const email = await signupAndVerify();
    const own = await newDeviceClient();
    const other = await newDeviceClient({ client_name: "Other app" });
    const started = await startDevice(own.client_id);
    await expectError(await poll(other.client_id, started.device_code), 400, "invalid_grant");
    expect((await deviceRow(started.user_code))?.last_polled_at).toBeNull();
    expect(await pollResult(await poll(own.client_id, started.device_code))).toBe("authorization_pending");
    await answerOnDevicePage(new TestBrowser(), started.user_code, email);
    advance(6);
    await expectError(await poll(other.client_id, started.device_code), 400, "invalid_grant");
    expect((await deviceRow(started.user_code))?.status).toBe("approved");
    expect(await pollResult(await poll(own.client_id, started.device_code))).toBe("tokens");
  });

  it("refuses a missing, unknown or oversized device code, and a client not registered for the grant", async () => {
    const client = await newDeviceClient();
    const missing = await postForm("/oauth/token", { grant_type: DEVICE_GRANT, client_id: client.client_id });
    await expectError(missing, 400, "invalid_request");
    await expectError(await poll(client.client_id, "x".repeat(43)), 400, "invalid_grant");
    await expectError(await poll(client.client_id, "x".repeat(5000)), 400, "invalid_grant");
    const codeOnly = await createClient({
      redirect_uris: ["https://app.example/cb"],
      token_endpoint_auth_method: "none",
    });
    await expectError(await poll(codeOnly.client_id, "x".repeat(43)), 400, "unauthorized_client");
    await expectError(
      await postForm("/oauth/token", { grant_type: DEVICE_GRANT, device_code: "x" }),
      401,
      "invalid_client",
    );
  });

  it("needs a confidential client's secret at every poll", async () => {
    const created = await createClient({ client_name: "Kiosk", grant_types: [DEVICE_GRANT], scope: "openid" });
    const auth = basic(created.client_id, created.client_secret as string);
    const started = await (await postForm("/oauth/device_authorization", { scope: "openid" }, auth)).json<{
      device_code: string;
    }>();
    await expectError(await poll(created.client_id, started.device_code), 401, "invalid_client");
    const polled = await postForm("/oauth/token", { grant_type: DEVICE_GRANT, device_code: started.device_code }, auth);
    await expectError(polled, 400, "authorization_pending");
  });

  it("records a third-party client's approval as a consent; withdrawing it before the poll spoils the code", async () => {
    freezeClock();
    const email = await signupAndVerify();
    const client = await newDeviceClient();
    const started = await startDevice(client.client_id);
    await answerOnDevicePage(new TestBrowser(), started.user_code, email);
    const user = await env.DB.prepare("SELECT id FROM users WHERE email = ?").bind(email).first<{ id: string }>();
    const consent = await env.DB.prepare("SELECT scopes FROM oauth_consents WHERE user_id = ? AND client_id = ?")
      .bind(user?.id, client.client_id)
      .first<{ scopes: string }>();
    expect(JSON.parse(consent?.scopes ?? "[]")).toEqual(["email", "offline_access", "openid"]);
    await env.DB.prepare("DELETE FROM oauth_consents WHERE user_id = ?").bind(user?.id).run();
    await expectError(await poll(client.client_id, started.device_code), 400, "invalid_grant");
  });
});

describe("housekeeping", () => {
  it("prunes device authorizations expired for over a day, and keeps the rest", async () => {
    const client = await newDeviceClient();
    const old = await startDevice(client.client_id);
    const recent = await startDevice(client.client_id);
    const now = Date.now();
    const expire = (userCode: string, at: number) =>
      env.DB.prepare("UPDATE device_authorizations SET expires_at = ? WHERE user_code = ?")
        .bind(at, userCode.replace("-", ""))
        .run();
    await expire(old.user_code, now - 2 * 86_400_000);
    await expire(recent.user_code, now - 3_600_000);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: now, cron: "17 3 * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await deviceRow(old.user_code)).toBeNull();
    expect(await deviceRow(recent.user_code)).not.toBeNull();
    // Within the day, an expired code still says so.
    expect(await pollResult(await poll(client.client_id, recent.device_code))).toBe("expired_token");
  });
});

describe("the development client edgelock-cli", () => {
  it("exists outside production: public, device grant and refresh tokens, first-party", async () => {
    const started = await startDevice("edgelock-cli");
    expect(started.user_code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    const row = await env.DB.prepare("SELECT * FROM oauth_clients WHERE id = 'edgelock-cli'").first<{
      token_endpoint_auth_method: string;
      grant_types: string;
      first_party: number;
    }>();
    expect(row).toMatchObject({ token_endpoint_auth_method: "none", first_party: 1 });
    expect(JSON.parse(row?.grant_types ?? "[]")).toEqual([DEVICE_GRANT, "refresh_token"]);
  });

  it("does not exist in production", async () => {
    const production = { ENVIRONMENT: "production", MAIL_TRANSPORT: "log", REQUIRE_EMAIL_VERIFICATION: "false" };
    await env.DB.prepare("DELETE FROM oauth_clients WHERE id = 'edgelock-cli'").run();
    const response = await sendWithEnv(
      production,
      new Request(`${BASE}/oauth/device_authorization`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "client_id=edgelock-cli",
      }),
    );
    await expectError(response, 401, "invalid_client");
    expect(await env.DB.prepare("SELECT id FROM oauth_clients WHERE id = 'edgelock-cli'").first()).toBeNull();
  });
});
