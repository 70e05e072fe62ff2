// API keys: create, use, list, revoke, expire; scopes within the creator's permissions.
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { sha256Hex } from "../../src/lib/crypto/digest";
import {
  BASE,
  bearer,
  expectError,
  grantRole,
  jsonRequest,
  login,
  newAdmin,
  newSession,
  postJson,
  send,
  sendWithEnv,
} from "../helpers";

async function createKey(token: string, body: Record<string, unknown>): Promise<Response> {
  return postJson("/auth/api-keys", body, bearer(token));
}

async function newKey(
  token: string,
  scopes: string[],
  extra: Record<string, unknown> = {},
): Promise<{ key: string; id: string }> {
  const response = await createKey(token, { name: "ci", scopes, ...extra });
  expect(response.status).toBe(201);
  return response.json();
}

function withKey(path: string, key: string, how: "bearer" | "header" = "bearer"): Promise<Response> {
  const headers = how === "bearer" ? bearer(key) : { "X-API-Key": key };
  return send(new Request(`${BASE}${path}`, { headers }));
}

describe("API keys", () => {
  it("are shown once in the elk_<id>_<secret> format and stored only as a hash", async () => {
    const admin = await newAdmin();
    const response = await createKey(admin.access_token, { name: "deploy bot", scopes: ["users:read"] });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { key: string; id: string; prefix: string; scopes: string[]; name: string };
    expect(body.key).toMatch(/^elk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(body).toMatchObject({ name: "deploy bot", scopes: ["users:read"], prefix: `elk_${body.id}` });
    const row = await env.DB.prepare("SELECT secret_hash FROM api_keys WHERE id = ?")
      .bind(body.id)
      .first<{ secret_hash: string }>();
    expect(row?.secret_hash).toBe(await sha256Hex(body.key.slice(`elk_${body.id}_`.length)));
    const listed = (await (
      await send(new Request(`${BASE}/auth/api-keys`, { headers: bearer(admin.access_token) }))
    ).json()) as {
      api_keys: Record<string, unknown>[];
    };
    expect(JSON.stringify(listed)).not.toContain(body.key.slice(21));
    expect(listed.api_keys[0]).toMatchObject({ id: body.id, name: "deploy bot", last_used_at: null });
  });

  it("authenticate by Bearer or X-API-Key, within their scopes, and record the last use", async () => {
    const admin = await newAdmin();
    const { key, id } = await newKey(admin.access_token, ["users:read"]);
    expect((await withKey("/admin/users", key)).status).toBe(200);
    expect((await withKey("/admin/users", key, "header")).status).toBe(200);
    await expectError(await withKey("/admin/audit", key), 403, "insufficient_scope");
    await vi.waitFor(async () => {
      const used = await env.DB.prepare("SELECT last_used_at FROM api_keys WHERE id = ?")
        .bind(id)
        .first("last_used_at");
      expect(used).not.toBeNull();
    });
  });

  it("cannot carry scopes the creator lacks", async () => {
    const viewer = await newSession();
    await grantRole(viewer.user.id, "viewer");
    const token = (await login(viewer.email)).access_token;
    await expectError(await createKey(token, { name: "x", scopes: ["users:read"] }), 403, "insufficient_scope");
    await expectError(await createKey(token, { name: "x", scopes: ["posts:*"] }), 403, "insufficient_scope");
    expect((await createKey(token, { name: "x", scopes: ["posts:read"] })).status).toBe(201);
    const editor = await newSession();
    await grantRole(editor.user.id, "editor");
    const editorToken = (await login(editor.email)).access_token;
    expect((await createKey(editorToken, { name: "x", scopes: ["posts:write@owner"] })).status).toBe(201);
    await expectError(await createKey(editorToken, { name: "x", scopes: ["posts:write"] }), 403, "insufficient_scope");
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE user_id IN (?, ?)")
      .bind(viewer.user.id, editor.user.id)
      .first("n");
    expect(count).toBe(2);
  });

  it("lose what their owner loses, at once", async () => {
    const admin = await newAdmin();
    const other = await newAdmin();
    const { key } = await newKey(other.access_token, ["users:read"]);
    expect((await withKey("/admin/users", key)).status).toBe(200);
    await send(
      new Request(`${BASE}/admin/users/${other.user.id}/roles/admin`, {
        method: "DELETE",
        headers: bearer(admin.access_token),
      }),
    );
    await expectError(await withKey("/admin/users", key), 403, "insufficient_scope");
  });

  it("stop working when revoked, when expired, and when the owner is disabled", async () => {
    const admin = await newAdmin();
    const revoked = await newKey(admin.access_token, ["users:read"]);
    expect(
      (
        await send(
          new Request(`${BASE}/auth/api-keys/${revoked.id}`, { method: "DELETE", headers: bearer(admin.access_token) }),
        )
      ).status,
    ).toBe(204);
    await expectError(await withKey("/admin/users", revoked.key), 401, "invalid_token");

    const expiring = await newKey(admin.access_token, ["users:read"], {
      expires_at: new Date(Date.now() + 60_000).toISOString(),
    });
    expect((await withKey("/admin/users", expiring.key)).status).toBe(200);
    await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1, expiring.id)
      .run();
    await expectError(await withKey("/admin/users", expiring.key), 401, "invalid_token");

    const owner = await newAdmin();
    const owned = await newKey(owner.access_token, ["users:read"]);
    await env.DB.prepare("UPDATE users SET disabled_at = ? WHERE id = ?").bind(Date.now(), owner.user.id).run();
    await expectError(await withKey("/admin/users", owned.key), 401, "invalid_token");
  });

  it("die for good when an admin disables the owner: re-enabling does not bring them back", async () => {
    const admin = await newAdmin();
    const owner = await newAdmin();
    const { key } = await newKey(owner.access_token, ["users:read"]);
    const act = (path: string) =>
      send(new Request(`${BASE}${path}`, { method: "POST", headers: bearer(admin.access_token) }));
    expect((await act(`/admin/users/${owner.user.id}/disable`)).status).toBe(204);
    expect((await act(`/admin/users/${owner.user.id}/enable`)).status).toBe(204);
    await expectError(await withKey("/admin/users", key), 401, "invalid_token");
  });

  it("refuse tampered keys, keys where only tokens are accepted, and keys minting keys", async () => {
    const admin = await newAdmin();
    const { key } = await newKey(admin.access_token, ["users:read"]);
    await expectError(await withKey("/admin/users", `${key.slice(0, -2)}xx`), 401, "invalid_token");
    await expectError(await postJson("/auth/logout-all", {}, bearer(key)), 401, "invalid_token");
    await expectError(await withKey("/auth/me", key), 401, "invalid_token");
    await expectError(await createKey(key, { name: "more", scopes: ["users:read"] }), 401, "invalid_token");
  });

  it("answer 404 for another user's key id, and leave it alone", async () => {
    const mine = await newAdmin();
    const theirs = await newAdmin();
    const { key, id } = await newKey(theirs.access_token, ["users:read"]);
    await expectError(
      await send(new Request(`${BASE}/auth/api-keys/${id}`, { method: "DELETE", headers: bearer(mine.access_token) })),
      404,
      "not_found",
    );
    expect((await withKey("/admin/users", key)).status).toBe(200);
  });

  it("cannot be signing keys when REQUEST_SIGNING_SECRET is not set", async () => {
    const admin = await newAdmin();
    const request = jsonRequest(
      "/auth/api-keys",
      { name: "x", scopes: ["users:read"], signing: true },
      bearer(admin.access_token),
    );
    await expectError(await sendWithEnv({ REQUEST_SIGNING_SECRET: undefined }, request), 400, "invalid_request");
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE user_id = ?")
      .bind(admin.user.id)
      .first("n");
    expect(count).toBe(0);
  });

  it("refuse bad input: no scopes, a malformed scope, an expiry in the past", async () => {
    const admin = await newAdmin();
    await expectError(await createKey(admin.access_token, { name: "x", scopes: [] }), 400, "invalid_request");
    await expectError(
      await createKey(admin.access_token, { name: "x", scopes: ["not a scope"] }),
      400,
      "invalid_request",
    );
    await expectError(
      await createKey(admin.access_token, { name: "x", scopes: ["users:read"], expires_at: "2020-01-01T00:00:00Z" }),
      400,
      "invalid_request",
    );
  });

  it("hand out no role beyond their own scopes: a users:write key cannot make anyone an admin", async () => {
    const admin = await newAdmin();
    const target = await newSession();
    const narrow = await newKey(admin.access_token, ["users:write"]);
    const assign = (key: string, role: string) =>
      send(new Request(`${BASE}/admin/users/${target.user.id}/roles/${role}`, { method: "PUT", headers: bearer(key) }));
    await expectError(await assign(narrow.key, "admin"), 403, "insufficient_scope");
    await expectError(await assign(narrow.key, "viewer"), 403, "insufficient_scope");
    const roles = await env.DB.prepare("SELECT role FROM user_roles WHERE user_id = ? AND role IN ('admin', 'viewer')")
      .bind(target.user.id)
      .all();
    expect(roles.results).toHaveLength(0);
    // A key that carries what the role grants may hand it out, as its owner could.
    const wider = await newKey(admin.access_token, ["users:write", "posts:read"]);
    expect((await assign(wider.key, "viewer")).status).toBe(204);
  });
});
