import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import {
  BASE,
  bearer,
  expectError,
  jsonRequest,
  newSession,
  PASSWORD,
  postJson,
  send,
  sendWithEnv,
  type TokenResponse,
} from "../helpers";
import { codeFor, newMfaUser } from "../mfa/support";
import { newPublicClient, startFlow } from "../oauth/flow";
import { pageFields, TestBrowser } from "../oauth/oauth-helpers";
import { b64u, SoftAuthenticator } from "./authenticator";
import {
  challengeRow,
  expectAudit,
  listPasskeys,
  loginOptions,
  loginVerify,
  passkeyRequest,
  passkeyRows,
  registerOptions,
  registerPasskey,
  registerVerify,
} from "./support";

interface CreationOptionsJson {
  challenge: string;
  rp: { id: string; name: string };
  user: { id: string; name: string };
  attestation: string;
  authenticatorSelection: Record<string, unknown>;
  excludeCredentials: unknown[];
  timeout: number;
}

async function passkeyLogin(authenticator: SoftAuthenticator, extra: Record<string, unknown> = {}) {
  const { challenge_id, options } = await loginOptions();
  const response = await authenticator.assert(options);
  return loginVerify({ challenge_id, response, ...extra });
}

describe("passkey registration", () => {
  it("offers creation options bound to PUBLIC_URL, resident key and user verification required, attestation none", async () => {
    const session = await newSession();
    const response = await registerOptions(session.access_token);
    expect(response.status).toBe(200);
    const options = await response.json<CreationOptionsJson>();
    expect(options.rp).toEqual({ id: "auth.test", name: "auth.test" });
    expect(options.user.name).toBe(session.email);
    expect(
      new TextDecoder().decode(
        Uint8Array.from(atob(options.user.id.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)),
      ),
    ).toBe(session.user.id);
    expect(options.attestation).toBe("none");
    expect(options.authenticatorSelection).toMatchObject({
      residentKey: "required",
      requireResidentKey: true,
      userVerification: "required",
    });
    expect(options.excludeCredentials).toEqual([]);
    expect(options.timeout).toBe(300_000);
    // The challenge is a one-time secret for registration, bound to the user, 5 minutes.
    const row = await challengeRow(options.challenge);
    expect(row).toMatchObject({ purpose: "passkey_registration", user_id: session.user.id, used_at: null });
    expect(Number(row?.expires_at) - Number(row?.created_at)).toBe(300_000);
  });

  it("registers a passkey: 201 the passkey, stored with its public key, listed, excluded from the next options", async () => {
    const session = await newSession();
    const { passkey, authenticator } = await registerPasskey(session.access_token, undefined, "Laptop");
    expect(passkey).toMatchObject({
      name: "Laptop",
      device_type: "singleDevice",
      backed_up: false,
      transports: ["internal"],
      aaguid: "07070707-0707-0707-0707-070707070707",
      last_used_at: null,
    });
    const [row] = await passkeyRows(session.user.id);
    expect(row).toMatchObject({ id: passkey.id, credential_id: b64u(authenticator.newest.id), counter: 1 });
    const list = await listPasskeys(session.access_token);
    expect(list.status).toBe(200);
    expect((await list.json<{ passkeys: unknown[] }>()).passkeys).toEqual([passkey]);
    const next = await (await registerOptions(session.access_token)).json<{ excludeCredentials: unknown[] }>();
    expect(next.excludeCredentials).toEqual([
      { id: b64u(authenticator.newest.id), type: "public-key", transports: ["internal"] },
    ]);
    await expectAudit(session.user.id, "passkey_registered");
  });

  it("needs a signed-in user", async () => {
    await expectError(await postJson("/auth/passkeys/register/options", {}), 401, "invalid_token");
  });

  it("refuses a response from another origin, for another rp id, without user verification, or for a spent challenge", async () => {
    const session = await newSession();
    const authenticator = new SoftAuthenticator();
    const cases = [{ origin: "https://evil.test" }, { rpId: "evil.test" }, { uv: false }, { type: "webauthn.get" }];
    for (const overrides of cases) {
      const options = await (await registerOptions(session.access_token)).json<CreationOptionsJson>();
      const response = await authenticator.register(options, overrides);
      await expectError(await registerVerify(session.access_token, { response }), 400, "invalid_request");
      // The challenge is spent all the same.
      expect((await challengeRow(options.challenge))?.used_at).not.toBeNull();
    }
    expect(await passkeyRows(session.user.id)).toEqual([]);
  });

  it("refuses a challenge issued to another user, and a replayed one", async () => {
    const alice = await newSession();
    const bob = await newSession();
    const options = await (await registerOptions(alice.access_token)).json<CreationOptionsJson>();
    const response = await new SoftAuthenticator().register(options);
    await expectError(await registerVerify(bob.access_token, { response }), 400, "invalid_grant");
    expect(await passkeyRows(bob.user.id)).toEqual([]);
    const again = await (await registerOptions(alice.access_token)).json<CreationOptionsJson>();
    const ok = await new SoftAuthenticator().register(again);
    expect((await registerVerify(alice.access_token, { response: ok })).status).toBe(201);
    await expectError(await registerVerify(alice.access_token, { response: ok }), 400, "invalid_grant");
    expect(await passkeyRows(alice.user.id)).toHaveLength(1);
  });

  it("refuses a credential registered already (to another user), and an id that is not the attested one", async () => {
    const alice = await newSession();
    const bob = await newSession();
    const { authenticator } = await registerPasskey(alice.access_token);
    const aliceCredential = authenticator.newest.id;
    const options = await (await registerOptions(bob.access_token)).json<CreationOptionsJson>();
    const response = await new SoftAuthenticator().register(options, { credentialId: aliceCredential });
    await expectError(await registerVerify(bob.access_token, { response }), 409, "invalid_request");
    const again = await (await registerOptions(bob.access_token)).json<CreationOptionsJson>();
    const renamed = await new SoftAuthenticator().register(again);
    const claimed = { ...renamed, id: b64u(aliceCredential), rawId: b64u(aliceCredential) };
    await expectError(await registerVerify(bob.access_token, { response: claimed }), 400, "invalid_request");
    expect(await passkeyRows(bob.user.id)).toEqual([]);
    expect(await passkeyRows(alice.user.id)).toHaveLength(1);
  });

  it("needs a fresh login, and a code when two-step login is on", async () => {
    const user = await newMfaUser();
    await expectError(await registerOptions(user.access_token), 401, "mfa_required");
    const options = await registerOptions(user.access_token, { code: await codeFor(user.secret) });
    expect(options.status).toBe(200);
  });

  it("answers bad input with 400 and changes nothing", async () => {
    const session = await newSession();
    const options = await (await registerOptions(session.access_token)).json<CreationOptionsJson>();
    const good = await new SoftAuthenticator().register(options);
    const bad = [
      {},
      { response: "nope" },
      { response: { ...good, type: "password" } },
      { response: { ...good, response: { ...good.response, clientDataJSON: "not base64url!" } } },
      { response: { ...good, response: { ...good.response, clientDataJSON: b64u(new TextEncoder().encode("{}")) } } },
      { response: good, name: "" },
      { response: good, name: "x".repeat(101) },
    ];
    for (const body of bad) {
      await expectError(await registerVerify(session.access_token, body), 400, "invalid_request");
    }
    expect((await challengeRow(options.challenge))?.used_at).toBeNull();
    expect(await passkeyRows(session.user.id)).toEqual([]);
    expect((await registerVerify(session.access_token, { response: good })).status).toBe(201);
  });
});

describe("passkey login", () => {
  it("logs in with a discoverable credential: tokens with amr hwk+user+mfa, the use recorded", async () => {
    const session = await newSession();
    const { authenticator, passkey } = await registerPasskey(session.access_token);
    const { challenge_id, options } = await loginOptions();
    expect(options.rpId).toBe("auth.test");
    expect(options.userVerification).toBe("required");
    expect(options.allowCredentials ?? []).toEqual([]);
    expect(options.challenge).toBe(challenge_id);
    const response = await loginVerify({ challenge_id, response: await authenticator.assert(options) });
    expect(response.status).toBe(200);
    const body = await response.json<TokenResponse>();
    expect(body.user.id).toBe(session.user.id);
    const claims = decodeJwt(body.access_token);
    expect(claims.amr).toEqual(["hwk", "user", "mfa"]);
    const [row] = await passkeyRows(session.user.id);
    expect(row).toMatchObject({ id: passkey.id, counter: 2 });
    expect(row?.last_used_at).toEqual(expect.any(Number));
    const logins = await expectAudit(session.user.id, "login_succeeded");
    expect(logins.at(-1)?.amr).toEqual(["hwk", "user", "mfa"]);
  });

  it("a synced passkey is swk; cookie mode starts a browser session", async () => {
    const session = await newSession();
    const { authenticator } = await registerPasskey(session.access_token, new SoftAuthenticator({ synced: true }));
    const response = await passkeyLogin(authenticator, { mode: "cookie" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Set-Cookie")).toMatch(/^__Host-/);
    const body = await response.json<{ csrf_token: string; user: { id: string } }>();
    expect(body.user.id).toBe(session.user.id);
    expect(body.csrf_token).toEqual(expect.any(String));
    const [row] = await passkeyRows(session.user.id);
    expect(row).toMatchObject({ counter: 0, backed_up: 1, device_type: "multiDevice" });
    const token = await passkeyLogin(authenticator);
    expect(decodeJwt((await token.json<TokenResponse>()).access_token).amr).toEqual(["swk", "user", "mfa"]);
  });

  it("skips the TOTP step for a user with two-step login on: the passkey is multi-factor", async () => {
    const user = await newMfaUser();
    const options = await (
      await registerOptions(user.access_token, { code: await codeFor(user.secret) })
    ).json<CreationOptionsJson>();
    const authenticator = new SoftAuthenticator();
    const response = await authenticator.register(options);
    const created = await registerVerify(user.access_token, { response, code: await codeFor(user.secret, 1) });
    expect(created.status).toBe(201);
    const login = await passkeyLogin(authenticator);
    expect(login.status).toBe(200);
    expect(decodeJwt((await login.json<TokenResponse>()).access_token).amr).toEqual(["hwk", "user", "mfa"]);
    // A password still needs the code.
    expect((await postJson("/auth/login", { email: user.email, password: PASSWORD })).status).toBe(401);
  });

  it("refuses a wrong origin, a wrong rp id, a missing user verification, a wrong ceremony type", async () => {
    const session = await newSession();
    const { authenticator } = await registerPasskey(session.access_token);
    for (const overrides of [
      { origin: "https://evil.test" },
      { rpId: "evil.test" },
      { uv: false },
      { type: "webauthn.create" },
    ]) {
      const { challenge_id, options } = await loginOptions();
      const response = await authenticator.assert(options, overrides);
      await expectError(await loginVerify({ challenge_id, response }), 401, "invalid_credentials");
    }
    const failures = await expectAudit(session.user.id, "login_failed");
    expect(failures.map((row) => row.reason)).toContain("passkey_rejected");
    expect((await passkeyRows(session.user.id))[0]?.last_used_at).toBeNull();
  });

  it("accepts an origin listed in PASSKEY_EXTRA_ORIGINS (the rp id stays PUBLIC_URL's)", async () => {
    const session = await newSession();
    const { authenticator } = await registerPasskey(session.access_token);
    const extra = { PASSKEY_EXTRA_ORIGINS: "https://app.test, https://other.test" };
    const ask = async (origin: string) => {
      const { challenge_id, options } = await loginOptions();
      const response = await authenticator.assert(options, { origin });
      return sendWithEnv(extra, jsonRequest("/auth/passkeys/login/verify", { challenge_id, response }));
    };
    expect((await ask("https://app.test")).status).toBe(200);
    await expectError(await ask("https://evil.test"), 401, "invalid_credentials");
    const bad = await sendWithEnv(
      { PASSKEY_EXTRA_ORIGINS: "https://*.test" },
      jsonRequest("/auth/passkeys/login/options", {}),
    );
    await expectError(bad, 500, "server_misconfigured");
  });

  it("refuses an assertion for another challenge than the one named", async () => {
    const session = await newSession();
    const { authenticator } = await registerPasskey(session.access_token);
    const first = await loginOptions();
    const second = await loginOptions();
    const response = await authenticator.assert(second.options);
    await expectError(await loginVerify({ challenge_id: first.challenge_id, response }), 401, "invalid_credentials");
  });

  it("a challenge is single-use: a replay gets invalid_grant", async () => {
    const session = await newSession();
    const { authenticator } = await registerPasskey(session.access_token);
    const { challenge_id, options } = await loginOptions();
    const response = await authenticator.assert(options);
    expect((await loginVerify({ challenge_id, response })).status).toBe(200);
    await expectError(await loginVerify({ challenge_id, response }), 400, "invalid_grant");
    const fresh = await authenticator.assert(options);
    await expectError(await loginVerify({ challenge_id, response: fresh }), 400, "invalid_grant");
  });

  it("a challenge expires after 5 minutes; a registration challenge is no login challenge", async () => {
    const session = await newSession();
    const { authenticator } = await registerPasskey(session.access_token);
    const { challenge_id, options } = await loginOptions();
    const row = await challengeRow(challenge_id);
    expect(row).toMatchObject({ purpose: "passkey_login", user_id: null });
    expect(Number(row?.expires_at) - Number(row?.created_at)).toBe(300_000);
    await env.DB.prepare("UPDATE one_time_secrets SET expires_at = ? WHERE token_hash = ?")
      .bind(Date.now() - 1, row?.token_hash)
      .run();
    await expectError(
      await loginVerify({ challenge_id, response: await authenticator.assert(options) }),
      400,
      "invalid_grant",
    );
    const registration = await (await registerOptions(session.access_token)).json<CreationOptionsJson>();
    const response = await authenticator.assert({ challenge: registration.challenge });
    await expectError(await loginVerify({ challenge_id: registration.challenge, response }), 400, "invalid_grant");
  });

  it("a counter that goes backwards refuses the login and is audited", async () => {
    const session = await newSession();
    const { authenticator } = await registerPasskey(session.access_token);
    expect((await passkeyLogin(authenticator)).status).toBe(200); // counter 2
    authenticator.newest.counter = 1; // a clone that is behind: it presents 2 again
    await expectError(await passkeyLogin(authenticator), 401, "invalid_credentials");
    const [audit] = await expectAudit(session.user.id, "passkey_counter_regressed");
    expect(audit).toMatchObject({ stored_counter: 2, presented_counter: 2 });
    expect((await passkeyRows(session.user.id))[0]?.counter).toBe(2);
    authenticator.newest.counter = 5;
    expect((await passkeyLogin(authenticator)).status).toBe(200);
  });

  it("refuses an unknown credential and an assertion whose user handle names another user", async () => {
    const alice = await newSession();
    const bob = await newSession();
    const { authenticator } = await registerPasskey(alice.access_token);
    const stranger = new SoftAuthenticator();
    await stranger.register({ challenge: "x", rp: { id: "auth.test", name: "x" }, user: { id: "eA", name: "x" } });
    await expectError(await passkeyLogin(stranger), 401, "invalid_credentials");
    const bobHandle = b64u(new TextEncoder().encode(bob.user.id));
    const { challenge_id, options } = await loginOptions();
    const response = await authenticator.assert(options, { userHandle: bobHandle });
    await expectError(await loginVerify({ challenge_id, response }), 401, "invalid_credentials");
    const failures = await expectAudit(alice.user.id, "login_failed");
    expect(failures.map((row) => row.reason)).toContain("passkey_user_handle_mismatch");
  });

  it("refuses a disabled account", async () => {
    const session = await newSession();
    const { authenticator } = await registerPasskey(session.access_token);
    await env.DB.prepare("UPDATE users SET disabled_at = ? WHERE id = ?").bind(Date.now(), session.user.id).run();
    await expectError(await passkeyLogin(authenticator), 401, "invalid_credentials");
  });

  it("answers bad input with 400 and spends nothing", async () => {
    const session = await newSession();
    const { authenticator } = await registerPasskey(session.access_token);
    const { challenge_id, options } = await loginOptions();
    const good = await authenticator.assert(options);
    const bad = [
      {},
      { challenge_id },
      { challenge_id, response: { ...good, rawId: "!!" } },
      { challenge_id, response: { ...good, response: { ...good.response, signature: undefined } } },
      { challenge_id, response: good, mode: "both" },
      { challenge_id: "not base64url!", response: good },
    ];
    for (const body of bad) await expectError(await loginVerify(body), 400, "invalid_request");
    expect((await challengeRow(challenge_id))?.used_at).toBeNull();
    expect((await loginVerify({ challenge_id, response: good })).status).toBe(200);
  });

  it("is limited per IP", async () => {
    const headers = { "CF-Connecting-IP": "203.0.113.77" };
    const response = await postJson("/auth/passkeys/login/options", {}, headers);
    expect(response.headers.get("RateLimit-Policy")).toMatch(/^"passkey";q=\d+/);
    const session = await newSession();
    const { authenticator } = await registerPasskey(session.access_token);
    const { challenge_id, options } = await loginOptions();
    const verify = await loginVerify({ challenge_id, response: await authenticator.assert(options) }, headers);
    expect(verify.status).toBe(200);
    expect(verify.headers.get("RateLimit-Policy")).toMatch(/^"login";q=\d+/);
    const limited = { RATE_LIMIT_LOGIN_PER_IP: "1" };
    const ip = { "CF-Connecting-IP": "203.0.113.78" };
    expect((await sendWithEnv(limited, jsonRequest("/auth/passkeys/login/options", {}, ip))).status).toBe(200);
    await expectError(
      await sendWithEnv(limited, jsonRequest("/auth/passkeys/login/options", {}, ip)),
      429,
      "too_many_requests",
    );
  });
});

describe("managing passkeys", () => {
  it("renames, and only the owner's", async () => {
    const alice = await newSession();
    const bob = await newSession();
    const { passkey } = await registerPasskey(alice.access_token);
    const id = String(passkey.id);
    await expectError(await passkeyRequest("PATCH", id, bob.access_token, { name: "mine" }), 404, "not_found");
    await expectError(await passkeyRequest("PATCH", id, alice.access_token, { name: "" }), 400, "invalid_request");
    const renamed = await passkeyRequest("PATCH", id, alice.access_token, { name: "  Phone " });
    expect(renamed.status).toBe(200);
    expect((await renamed.json<{ name: string }>()).name).toBe("Phone");
    await expectError(await passkeyRequest("DELETE", id, bob.access_token), 404, "not_found");
    expect(await passkeyRows(alice.user.id)).toHaveLength(1);
  });

  it("deletes a passkey of an account with a password", async () => {
    const session = await newSession();
    const { passkey, authenticator } = await registerPasskey(session.access_token);
    expect((await passkeyRequest("DELETE", String(passkey.id), session.access_token)).status).toBe(204);
    expect(await passkeyRows(session.user.id)).toEqual([]);
    await expectError(await passkeyLogin(authenticator), 401, "invalid_credentials");
    await expectAudit(session.user.id, "passkey_deleted");
  });

  it("refuses to delete the last way to sign in of an account without a password", async () => {
    const session = await newSession();
    const first = await registerPasskey(session.access_token);
    await env.DB.prepare("UPDATE users SET password_hash = NULL WHERE id = ?").bind(session.user.id).run();
    const refused = await passkeyRequest("DELETE", String(first.passkey.id), session.access_token);
    await expectError(refused, 409, "invalid_request");
    expect(await passkeyRows(session.user.id)).toHaveLength(1);
    const second = await registerPasskey(session.access_token);
    expect((await passkeyRequest("DELETE", String(first.passkey.id), session.access_token)).status).toBe(204);
    await expectError(
      await passkeyRequest("DELETE", String(second.passkey.id), session.access_token),
      409,
      "invalid_request",
    );
    expect((await passkeyLogin(second.authenticator)).status).toBe(200);
  });

  it("lists nothing for a user without passkeys, and needs a signed-in user", async () => {
    const session = await newSession();
    expect(await (await listPasskeys(session.access_token)).json()).toEqual({ passkeys: [] });
    const anonymous = await send(new Request(`${BASE}/auth/passkeys`));
    await expectError(anonymous, 401, "invalid_token");
    expect(bearer("x")).toBeTruthy();
  });
});

describe("the hosted login page", () => {
  it("offers Sign in with a passkey: one script, allowed by its hash, that goes back to the interaction", async () => {
    const flow = await startFlow(await newPublicClient());
    const page = await new TestBrowser().get(flow.url.toString());
    expect(page.status).toBe(200);
    const html = await page.text();
    const { interaction } = pageFields(html);
    expect(html).toContain("Sign in with a passkey");
    expect(html).toContain(`data-next="/oauth/interaction/${interaction}"`);
    const csp = page.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+';/);
    expect(csp).toContain("connect-src 'self'");
    expect(html.match(/<script>/g)).toHaveLength(1);
  });
});
