// RBAC in tokens, the admin API, and privilege-escalation attempts.
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it, vi } from "vitest";
import {
  BASE,
  bearer,
  expectError,
  grantRole,
  login,
  newAdmin,
  newSession,
  PASSWORD,
  postJson,
  send,
  type TokenResponse,
} from "../helpers";

function call(method: string, path: string, token: string): Promise<Response> {
  return send(new Request(`${BASE}${path}`, { method, headers: bearer(token) }));
}

describe("roles in access tokens", () => {
  it("carry the user's roles and their permissions (with conditions)", async () => {
    const session = await newSession();
    await grantRole(session.user.id, "editor");
    const claims = decodeJwt((await login(session.email)).access_token);
    // "member": every new user's (DEFAULT_ROLES); it grants nothing unless a deployment adds permissions to it.
    expect(claims.roles).toEqual(["editor", "member"]);
    expect(claims.permissions).toEqual(["posts:delete@owner", "posts:read", "posts:write@owner"]);
    expect(decodeJwt(session.access_token).roles).toEqual(["member"]);
  });

  it("a role change kills older access tokens at once; the session refreshes into the new roles", async () => {
    const admin = await newAdmin();
    const user = await newSession();
    expect((await call("GET", "/auth/me", user.access_token)).status).toBe(200);
    expect((await call("PUT", `/admin/users/${user.user.id}/roles/editor`, admin.access_token)).status).toBe(204);
    await expectError(await call("GET", "/auth/me", user.access_token), 401, "invalid_token");
    const refreshed = (await (
      await postJson("/auth/refresh", { refresh_token: user.refresh_token })
    ).json()) as TokenResponse;
    expect(decodeJwt(refreshed.access_token).roles).toEqual(["editor", "member"]);
    expect((await call("GET", "/auth/me", refreshed.access_token)).status).toBe(200);
  });
});

describe("admin API permissions", () => {
  it.each([
    ["GET", "/admin/users"],
    ["GET", "/admin/audit"],
  ])("%s %s: 403 for viewers and editors, 200 for admins", async (method, path) => {
    for (const role of ["viewer", "editor"]) {
      const session = await newSession();
      await grantRole(session.user.id, role);
      await expectError(await call(method, path, (await login(session.email)).access_token), 403, "insufficient_scope");
    }
    const plain = await newSession();
    await expectError(await call(method, path, plain.access_token), 403, "insufficient_scope");
    expect((await call(method, path, (await newAdmin()).access_token)).status).toBe(200);
  });

  it("takes effect at once when a role is removed (checked against D1, not the token)", async () => {
    const other = await newAdmin();
    expect((await call("GET", "/admin/users", other.access_token)).status).toBe(200);
    // Straight in D1, with no marker raised: the old token still says "admin".
    await env.DB.prepare("DELETE FROM user_roles WHERE user_id = ?").bind(other.user.id).run();
    expect(decodeJwt(other.access_token).roles).toEqual(["admin", "member"]);
    await expectError(await call("GET", "/admin/users", other.access_token), 403, "insufficient_scope");
  });

  it("refuses a disabled admin at once, even before KV has heard of it", async () => {
    const other = await newAdmin();
    await env.DB.prepare("UPDATE users SET disabled_at = ? WHERE id = ?").bind(Date.now(), other.user.id).run();
    await expectError(await call("GET", "/admin/users", other.access_token), 401, "invalid_token");
  });

  it("nobody assigns a role granting more than they hold", async () => {
    await env.DB.prepare("INSERT OR IGNORE INTO roles (name) VALUES ('support'), ('user-admin')").run();
    await env.DB.prepare(
      "INSERT OR IGNORE INTO role_permissions (role, permission) VALUES ('support', 'users:read'), ('user-admin', 'users:*')",
    ).run();
    const userAdmin = await newSession();
    await grantRole(userAdmin.user.id, "user-admin");
    const token = (await login(userAdmin.email)).access_token;
    const target = await newSession();
    await expectError(
      await call("PUT", `/admin/users/${target.user.id}/roles/admin`, token),
      403,
      "insufficient_scope",
    );
    await expectError(
      await call("PUT", `/admin/users/${target.user.id}/roles/viewer`, token),
      403,
      "insufficient_scope",
    );
    expect((await call("PUT", `/admin/users/${target.user.id}/roles/support`, token)).status).toBe(204);
  });

  it("requires authentication", async () => {
    await expectError(await send(`${BASE}/admin/users`), 401, "invalid_token");
  });
});

describe("privilege escalation", () => {
  it("nobody grants themselves a role, not even an admin", async () => {
    const admin = await newAdmin();
    await expectError(
      await call("PUT", `/admin/users/${admin.user.id}/roles/editor`, admin.access_token),
      403,
      "insufficient_scope",
    );
    const plain = await newSession();
    await expectError(
      await call("PUT", `/admin/users/${plain.user.id}/roles/admin`, plain.access_token),
      403,
      "insufficient_scope",
    );
    // Only the role signup gave (DEFAULT_ROLES).
    const { results: roles } = await env.DB.prepare("SELECT role FROM user_roles WHERE user_id = ?")
      .bind(plain.user.id)
      .all();
    expect(roles).toEqual([{ role: "member" }]);
  });

  it("an unknown role or user is 404, and nothing changes", async () => {
    const admin = await newAdmin();
    const user = await newSession();
    await expectError(
      await call("PUT", `/admin/users/${user.user.id}/roles/superuser`, admin.access_token),
      404,
      "not_found",
    );
    await expectError(await call("PUT", "/admin/users/nobody/roles/editor", admin.access_token), 404, "not_found");
  });
});

describe("admin actions", () => {
  it("answers 404 for an unknown user and 400 for a malformed audit cursor", async () => {
    const admin = await newAdmin();
    await expectError(await call("GET", "/admin/users/nobody", admin.access_token), 404, "not_found");
    await expectError(await call("GET", "/admin/users/nobody/sessions", admin.access_token), 404, "not_found");
    await expectError(await call("GET", "/admin/audit?before=abc", admin.access_token), 400, "invalid_request");
    const { user } = (await (await call("GET", `/admin/users/${admin.user.id}`, admin.access_token)).json()) as {
      user: { roles: string[]; disabled: boolean };
    };
    expect(user).toMatchObject({ roles: ["admin", "member"], disabled: false });
  });

  it("lists and searches users, paged", async () => {
    const admin = await newAdmin();
    const marker = `page-${crypto.randomUUID().slice(0, 8)}`;
    for (let i = 0; i < 3; i++) {
      const email = `${marker}-${i}@example.com`;
      await postJson("/auth/signup", { email, password: PASSWORD });
    }
    const first = (await (await call("GET", `/admin/users?q=${marker}&limit=2`, admin.access_token)).json()) as {
      users: { email: string }[];
      next_cursor: string | null;
    };
    expect(first.users).toHaveLength(2);
    expect(first.next_cursor).not.toBeNull();
    const second = (await (
      await call("GET", `/admin/users?q=${marker}&limit=2&cursor=${first.next_cursor}`, admin.access_token)
    ).json()) as { users: { email: string }[]; next_cursor: string | null };
    expect(second.users).toHaveLength(1);
    expect(second.next_cursor).toBeNull();
    expect(new Set([...first.users, ...second.users].map((u) => u.email)).size).toBe(3);
    await expectError(await call("GET", "/admin/users?limit=0", admin.access_token), 400, "invalid_request");
  });

  it("disabling a user kills every session and token at once; enabling lets them log in again", async () => {
    const admin = await newAdmin();
    const user = await newSession();
    expect((await call("POST", `/admin/users/${user.user.id}/disable`, admin.access_token)).status).toBe(204);
    await expectError(await call("GET", "/auth/me", user.access_token), 401, "invalid_token");
    await expectError(await postJson("/auth/refresh", { refresh_token: user.refresh_token }), 400, "invalid_grant");
    await expectError(
      await postJson("/auth/login", { email: user.email, password: PASSWORD }),
      401,
      "invalid_credentials",
    );
    expect((await call("POST", `/admin/users/${user.user.id}/enable`, admin.access_token)).status).toBe(204);
    await login(user.email);
    await expectError(
      await call("POST", `/admin/users/${admin.user.id}/disable`, admin.access_token),
      403,
      "insufficient_scope",
    );
  });

  it("lists and revokes a user's sessions", async () => {
    const admin = await newAdmin();
    const user = await newSession();
    const { sessions } = (await (
      await call("GET", `/admin/users/${user.user.id}/sessions`, admin.access_token)
    ).json()) as {
      sessions: { id: string }[];
    };
    expect(sessions).toHaveLength(1);
    expect(
      (await call("DELETE", `/admin/users/${user.user.id}/sessions/${sessions[0]?.id}`, admin.access_token)).status,
    ).toBe(204);
    await expectError(await postJson("/auth/refresh", { refresh_token: user.refresh_token }), 400, "invalid_grant");
    await expectError(
      await call("DELETE", `/admin/users/${admin.user.id}/sessions/${sessions[0]?.id}`, admin.access_token),
      404,
      "not_found",
    );
  });

  it("audits every admin change, with the acting admin", async () => {
    const admin = await newAdmin();
    const user = await newSession();
    await call("PUT", `/admin/users/${user.user.id}/roles/viewer`, admin.access_token);
    await call("POST", `/admin/users/${user.user.id}/disable`, admin.access_token);
    await call("POST", `/admin/users/${user.user.id}/enable`, admin.access_token);
    await call("DELETE", `/admin/users/${user.user.id}/roles/viewer`, admin.access_token);
    await vi.waitFor(async () => {
      const response = await call("GET", `/admin/audit?user_id=${user.user.id}`, admin.access_token);
      const { entries } = (await response.json()) as { entries: { event: string; details: { by?: string } }[] };
      const adminEvents = entries.filter((e) => e.details.by === admin.user.id).map((e) => e.event);
      expect(adminEvents.sort()).toEqual(["role_assigned", "role_removed", "user_disabled", "user_enabled"]);
    });
  });
});
