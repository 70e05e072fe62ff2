// DEFAULT_ROLES and the `member` role (migration 0013): every new user holds
// member, so the scopes an application grants member are scopes any user can
// put on an API key.
import { env, exports } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  bearer,
  expectError,
  freshEmail,
  jsonRequest,
  login,
  newSession,
  PASSWORD,
  postJson,
  sendWithEnv,
  userRow,
} from "../helpers";

async function rolesOf(userId: string): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT role FROM user_roles WHERE user_id = ? ORDER BY role")
    .bind(userId)
    .all<{ role: string }>();
  return results.map((row) => row.role);
}

/** Signs up with some vars overridden (verification off: the account exists at once); its id. */
async function signupWith(overrides: Record<string, string>): Promise<string> {
  const email = freshEmail();
  const response = await sendWithEnv(
    { REQUIRE_EMAIL_VERIFICATION: "false", ...overrides },
    jsonRequest("/auth/signup", { email, password: PASSWORD }),
  );
  expect(response.status).toBe(201);
  const row = await userRow(email);
  return String(row?.id);
}

function createKey(token: string, scopes: string[]): Promise<Response> {
  return postJson("/auth/api-keys", { name: "orders bot", scopes }, bearer(token));
}

/** What another Worker learns about the key through the AuthService RPC entrypoint. */
async function keyPermissions(key: string): Promise<string[]> {
  const result = await exports.AuthService.verifyApiKey(key);
  if (!result.ok) throw new Error(`key refused: ${result.code}`);
  return result.claims.permissions ?? [];
}

async function withMemberGrant<T>(permission: string, body: () => Promise<T>): Promise<T> {
  await env.DB.prepare("INSERT INTO role_permissions (role, permission) VALUES ('member', ?)").bind(permission).run();
  try {
    return await body();
  } finally {
    await env.DB.prepare("DELETE FROM role_permissions WHERE role = 'member' AND permission = ?")
      .bind(permission)
      .run();
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the member role", () => {
  it("is held by every new user, and shows in their access token", async () => {
    const session = await newSession();
    expect(await rolesOf(session.user.id)).toEqual(["member"]);
    const claims = decodeJwt(session.access_token);
    expect(claims.roles).toEqual(["member"]);
    expect(claims.permissions).toEqual([]);
  });

  it("lets a plain user mint an API key with a scope the deployment granted member, and no other", async () => {
    await withMemberGrant("orders:read", async () => {
      const session = await newSession();
      expect(decodeJwt(session.access_token).permissions).toEqual(["orders:read"]);
      const created = await createKey(session.access_token, ["orders:read"]);
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({ scopes: ["orders:read"] });
      await expectError(await createKey(session.access_token, ["orders:write"]), 403, "insufficient_scope");
      await expectError(
        await createKey(session.access_token, ["orders:read", "orders:write"]),
        403,
        "insufficient_scope",
      );
    });
  });

  it("taking the permission from member shrinks every key that carries it, at once", async () => {
    const { key, email } = await withMemberGrant("orders:read", async () => {
      const session = await newSession();
      const created = await createKey(session.access_token, ["orders:read"]);
      expect(created.status).toBe(201);
      const { key } = (await created.json()) as { key: string };
      expect(await keyPermissions(key)).toEqual(["orders:read"]);
      return { key, email: session.email };
    });
    // withMemberGrant took the grant back: the key still authenticates, but may do nothing now,
    expect(await keyPermissions(key)).toEqual([]);
    // and its owner, still a member, can no longer mint one with that scope.
    const token = (await login(email)).access_token;
    expect(decodeJwt(token).roles).toEqual(["member"]);
    await expectError(await createKey(token, ["orders:read"]), 403, "insufficient_scope");
  });
});

describe("DEFAULT_ROLES", () => {
  it("empty gives a new user no roles", async () => {
    const userId = await signupWith({ DEFAULT_ROLES: "" });
    expect(await rolesOf(userId)).toEqual([]);
  });

  it("lists several roles, with spaces and repeats", async () => {
    const userId = await signupWith({ DEFAULT_ROLES: " member , viewer,member" });
    expect(await rolesOf(userId)).toEqual(["member", "viewer"]);
  });

  it("naming a role that is no row in roles does not break signup: it is skipped and logged once", async () => {
    const ghost = `ghost-${crypto.randomUUID().slice(0, 8)}`;
    const warn = vi.spyOn(console, "warn");
    const first = await signupWith({ DEFAULT_ROLES: `member,${ghost}` });
    expect(await rolesOf(first)).toEqual(["member"]);
    const second = await signupWith({ DEFAULT_ROLES: `member,${ghost}` });
    expect(await rolesOf(second)).toEqual(["member"]);
    const mentions = warn.mock.calls.map(([line]) => String(line)).filter((line) => line.includes(ghost));
    expect(mentions).toHaveLength(1);
    expect(JSON.parse(mentions[0] as string)).toMatchObject({ event: "default_role_unknown", roles: [ghost] });
  });

  it("gives nothing to an existing account when a signup finds the address taken", async () => {
    const session = await newSession();
    const response = await sendWithEnv(
      { DEFAULT_ROLES: "member,viewer" },
      jsonRequest("/auth/signup", { email: session.email, password: PASSWORD }),
    );
    expect(response.status).toBe(202);
    expect(await rolesOf(session.user.id)).toEqual(["member"]);
  });

  it("with a malformed name is a configuration error", async () => {
    const response = await sendWithEnv(
      { DEFAULT_ROLES: "member,not a role" },
      jsonRequest("/auth/signup", { email: freshEmail(), password: PASSWORD }),
    );
    await expectError(response, 500, "server_misconfigured");
  });
});
