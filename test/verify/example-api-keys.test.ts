// API keys at the edge: the example API Worker accepts an access token, an API
// key and a request signed with one on the same /any/* routes, the last two
// checked by the auth Worker's AuthService over RPC; and a key exchanged for a
// short-lived access token (RFC 8693) that a JWKS-only verifier accepts.
import { env } from "cloudflare:workers";
import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { bodySha256, sign } from "../../src/api-keys/request-signing";
import { utf8Bytes } from "../../src/lib/crypto/encoding";
import { BASE, bearer, expectError, grantRole, login, newAdmin, newSession, outbox, postJson, send } from "../helpers";

const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const API_KEY_TYPE = "urn:edgelock:params:oauth:token-type:api-key";

interface Key {
  key: string;
  id: string;
  signing_secret?: string;
}

/** A user holding `viewer` (posts:read), logged in afresh so minting a key needs no password. */
async function viewer(): Promise<{ access_token: string; userId: string; email: string }> {
  const session = await newSession();
  await grantRole(session.user.id, "viewer");
  const fresh = await login(session.email);
  return { access_token: fresh.access_token, userId: session.user.id, email: session.email };
}

async function newKey(token: string, body: Record<string, unknown> = {}): Promise<Key> {
  const response = await postJson("/auth/api-keys", { name: "edge", scopes: ["posts:read"], ...body }, bearer(token));
  expect(response.status).toBe(201);
  return response.json();
}

function api(path: string, headers: Record<string, string> = {}, init: RequestInit = {}): Promise<Response> {
  return env.EXAMPLE_API.fetch(new Request(`https://api.test${path}`, { ...init, headers }));
}

async function signedHeaders(key: Key, method: string, url: string, body: string): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = crypto.randomUUID().replace(/-/g, "");
  const parts = { method, url, timestamp, nonce, bodySha256: await bodySha256(utf8Bytes(body)) };
  return {
    "X-Edgelock-Key-Id": key.id,
    "X-Edgelock-Timestamp": timestamp,
    "X-Edgelock-Nonce": nonce,
    "X-Edgelock-Signature": await sign(key.signing_secret as string, parts),
  };
}

function exchange(fields: Record<string, string>): Promise<Response> {
  return send(
    new Request(`${BASE}/oauth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields),
    }),
  );
}

function exchangeKey(key: string, extra: Record<string, string> = {}): Promise<Response> {
  return exchange({ grant_type: TOKEN_EXCHANGE, subject_token: key, subject_token_type: API_KEY_TYPE, ...extra });
}

async function lastUsedWhere(keyId: string): Promise<unknown> {
  // Written after the RPC answers (waitUntil): poll briefly.
  for (let attempt = 0; attempt < 50; attempt++) {
    const where = await env.DB.prepare("SELECT last_used_where FROM api_keys WHERE id = ?")
      .bind(keyId)
      .first("last_used_where");
    if (where !== null) return where;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return null;
}

describe("API keys at the edge (AuthService.verifyApiKey)", () => {
  it("one route accepts an access token, X-API-Key and Bearer elk_…, with the same claims shape", async () => {
    const user = await viewer();
    const { key, id } = await newKey(user.access_token);
    const byToken = await api("/any/posts", bearer(user.access_token));
    expect(await byToken.json()).toMatchObject({ sub: user.userId, via: "access_token" });
    for (const headers of [{ "X-API-Key": key }, bearer(key)]) {
      const response = await api("/any/posts", headers);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ sub: user.userId, via: `api_key ${id}` });
    }
    expect(await lastUsedWhere(id)).toBe("example-api");
    const listed: { api_keys: unknown[] } = await (
      await send(new Request(`${BASE}/auth/api-keys`, { headers: bearer(user.access_token) }))
    ).json();
    expect(listed.api_keys[0]).toMatchObject({ id, last_used_where: "example-api" });
  });

  it("refuses unknown, revoked, expired and disabled-owner keys with 401, and keys on a route that takes none", async () => {
    const user = await viewer();
    const revoked = await newKey(user.access_token);
    const expired = await newKey(user.access_token);
    const fine = await newKey(user.access_token);
    await send(
      new Request(`${BASE}/auth/api-keys/${revoked.id}`, { method: "DELETE", headers: bearer(user.access_token) }),
    );
    await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1000, expired.id)
      .run();
    const forged = `${fine.key.slice(0, -4)}AAAA`;
    for (const key of [revoked.key, expired.key, forged, "elk_nonsense"]) {
      const response = await api("/any/posts", { "X-API-Key": key });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: "invalid_token" });
    }
    // Without `apiKeys`, requireAuth takes access tokens only.
    expect((await api("/jwks/me", { "X-API-Key": fine.key })).status).toBe(401);
    expect((await api("/jwks/me", bearer(fine.key))).status).toBe(401);

    const admin = await newAdmin();
    expect((await postJson(`/admin/users/${user.userId}/disable`, {}, bearer(admin.access_token))).status).toBe(204);
    expect((await api("/any/posts", { "X-API-Key": fine.key })).status).toBe(401);
  });

  it("tells the caller Worker why over RPC, but never for a key whose secret did not match", async () => {
    const user = await viewer();
    const key = await newKey(user.access_token);
    const rpc = env.AUTH_SERVICE;
    expect(await rpc.verifyApiKey(key.key, { where: "tests" })).toMatchObject({
      ok: true,
      claims: { sub: user.userId, principal: "api_key", key_id: key.id, permissions: ["posts:read"], roles: [] },
    });
    await send(
      new Request(`${BASE}/auth/api-keys/${key.id}`, { method: "DELETE", headers: bearer(user.access_token) }),
    );
    expect(await rpc.verifyApiKey(key.key)).toMatchObject({ ok: false, code: "revoked" });
    expect(await rpc.verifyApiKey(`${key.key.slice(0, -4)}AAAA`)).toMatchObject({ ok: false, code: "unknown" });
    expect(await rpc.verifyApiKey(key.key, { where: "bad label with spaces" })).toMatchObject({ ok: false });
  });

  it("a key acts only within what its owner still holds: losing the role shrinks it at once", async () => {
    const user = await viewer();
    const { key } = await newKey(user.access_token);
    expect((await api("/any/posts", { "X-API-Key": key })).status).toBe(200);
    await env.DB.prepare("DELETE FROM user_roles WHERE user_id = ? AND role = 'viewer'").bind(user.userId).run();
    const denied = await api("/any/posts", { "X-API-Key": key });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error: "insufficient_scope" });
  });
});

describe("signed requests at the edge (AuthService.verifySignedRequest)", () => {
  it("accepts a signed request once, with its body still readable; refuses a replay and an altered body", async () => {
    const user = await viewer();
    const key = await newKey(user.access_token, { signing: true });
    const url = "https://api.test/any/echo";
    const body = '{"order":42}';
    const headers = await signedHeaders(key, "POST", url, body);
    const accepted = await api("/any/echo", headers, { method: "POST", body });
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({ received: body, sub: user.userId, via: `api_key ${key.id}` });
    expect((await api("/any/echo", headers, { method: "POST", body })).status).toBe(401);
    const fresh = await signedHeaders(key, "POST", url, body);
    expect((await api("/any/echo", fresh, { method: "POST", body: '{"order":43}' })).status).toBe(401);
    const again = await signedHeaders(key, "POST", url, body);
    expect((await api("/any/echo", again, { method: "POST", body })).status).toBe(200);
    expect(await lastUsedWhere(key.id)).toBe("example-api");
  });
});

describe("exchanging a key for an access token (RFC 8693)", () => {
  it("gives a short-lived JWT a JWKS-only verifier accepts, which dies with its key where revocation is checked", async () => {
    const user = await viewer();
    const key = await newKey(user.access_token);
    const response = await exchangeKey(key.key);
    expect(response.status).toBe(200);
    const tokens: { access_token: string; expires_in: number } = await response.json();
    expect(tokens).toMatchObject({
      token_type: "Bearer",
      issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
      scope: "posts:read",
    });
    expect(tokens.expires_in).toBeLessThanOrEqual(600);
    const jwks = createLocalJWKSet(await (await send(`${BASE}/.well-known/jwks.json`)).json());
    const { payload } = await jwtVerify(tokens.access_token, jwks, {
      issuer: "https://auth.test",
      audience: "https://api.test",
      typ: "at+jwt",
      algorithms: ["ES256"],
    });
    expect(payload).toMatchObject({
      sub: user.userId,
      client_id: `elk_${key.id}`,
      sid: `elk_${key.id}`,
      scope: "posts:read",
      permissions: ["posts:read"],
      roles: [],
    });
    expect((await api("/jwks/posts", bearer(tokens.access_token))).status).toBe(200);
    expect((await api("/any/posts", bearer(tokens.access_token))).status).toBe(200);
    // It is the key's token, not the user's: edgelock's own account endpoints refuse it.
    await expectError(
      await send(new Request(`${BASE}/auth/me`, { headers: bearer(tokens.access_token) })),
      401,
      "invalid_token",
    );

    await send(
      new Request(`${BASE}/auth/api-keys/${key.id}`, { method: "DELETE", headers: bearer(user.access_token) }),
    );
    expect((await api("/jwks/posts", bearer(tokens.access_token))).status).toBe(401);
    expect(await env.AUTH_SERVICE.verify(tokens.access_token)).toMatchObject({ ok: false, code: "token_revoked" });
    await expectError(await exchangeKey(key.key), 400, "invalid_grant");
  });

  it("refuses bad exchanges with the RFC error codes", async () => {
    const user = await viewer();
    const key = await newKey(user.access_token);
    await expectError(
      await exchangeKey(key.key, { subject_token_type: "urn:ietf:params:oauth:token-type:access_token" }),
      400,
      "invalid_request",
    );
    await expectError(
      await exchangeKey(key.key, { requested_token_type: "urn:ietf:params:oauth:token-type:id_token" }),
      400,
      "invalid_request",
    );
    await expectError(await exchangeKey(key.key, { scope: "posts:write" }), 400, "invalid_scope");
    await expectError(await exchangeKey(key.key, { resource: "https://elsewhere.test" }), 400, "invalid_target");
    await expectError(await exchangeKey(`${key.key.slice(0, -4)}AAAA`), 400, "invalid_grant");
    await expectError(
      await exchange({ grant_type: TOKEN_EXCHANGE, subject_token_type: API_KEY_TYPE }),
      400,
      "invalid_request",
    );
    // A named client must authenticate and have registered the grant type.
    await expectError(await exchangeKey(key.key, { client_id: "no-such-client" }), 401, "invalid_client");
    // A key whose owner lost every scope it carries mints nothing.
    await env.DB.prepare("DELETE FROM user_roles WHERE user_id = ? AND role = 'viewer'").bind(user.userId).run();
    await expectError(await exchangeKey(key.key), 400, "invalid_grant");
  });
});

describe("rotating a key", () => {
  it("gives a new secret for the same id; the old one works for the grace period only", async () => {
    const user = await viewer();
    const first = await newKey(user.access_token);
    const rotate = (body: Record<string, unknown>, id = first.id, token = user.access_token) =>
      postJson(`/auth/api-keys/${id}/rotate`, body, bearer(token));
    const withGrace = await rotate({ grace_seconds: 3600 });
    expect(withGrace.status).toBe(200);
    const second = (await withGrace.json()) as { key: string; id: string };
    expect(second.id).toBe(first.id);
    expect(second.key).not.toBe(first.key);
    expect((await api("/any/posts", { "X-API-Key": first.key })).status).toBe(200);
    expect((await api("/any/posts", { "X-API-Key": second.key })).status).toBe(200);

    const third = (await (await rotate({})).json()) as { key: string };
    // grace 0: the secret just replaced stops at once, and the first one is gone for good.
    expect((await api("/any/posts", { "X-API-Key": second.key })).status).toBe(401);
    expect((await api("/any/posts", { "X-API-Key": first.key })).status).toBe(401);
    expect((await api("/any/posts", { "X-API-Key": third.key })).status).toBe(200);

    const mails = await outbox(user.email);
    expect(mails.filter((mail) => mail.subject === "An API key of your account was rotated")).toHaveLength(2);
    await expectError(await rotate({ grace_seconds: 86_401 }), 400, "invalid_request");
    const other = await viewer();
    await expectError(await rotate({}, first.id, other.access_token), 404, "not_found");
    await expectError(await rotate({}, "0123456789abcdef"), 404, "not_found");
    expect((await api("/any/posts", { "X-API-Key": third.key })).status).toBe(200);
  });
});
