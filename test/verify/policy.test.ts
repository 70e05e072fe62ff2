// can(): RBAC, wildcards, attribute rules (ownership) and ACLs, as data.
import { describe, expect, it } from "vitest";
import { subjectOf } from "../../src/verify/hono";
import { can } from "../../src/verify/policy";

const admin = { sub: "a", roles: ["admin"], permissions: ["audit:*", "posts:*", "users:*"] };
const editor = { sub: "e", roles: ["editor"], permissions: ["posts:delete@owner", "posts:read", "posts:write@owner"] };
const viewer = { sub: "v", roles: ["viewer"], permissions: ["posts:read"] };
const nobody = { sub: "n", roles: [], permissions: [] };

const postBy = (owner: string, extra: Record<string, unknown> = {}) => ({ type: "posts", owner_id: owner, ...extra });

describe("can()", () => {
  it.each([
    // subject, action, resource, allowed
    ["admin", admin, "posts:delete", postBy("e"), true],
    ["admin", admin, "users:write", undefined, true],
    ["editor", editor, "posts:read", postBy("a"), true],
    ["editor", editor, "posts:write", postBy("e"), true],
    ["editor", editor, "posts:write", postBy("a"), false],
    ["editor", editor, "posts:delete", postBy("a"), false],
    ["editor", editor, "posts:write", undefined, false],
    ["editor", editor, "users:read", undefined, false],
    ["viewer", viewer, "posts:read", postBy("a"), true],
    ["viewer", viewer, "posts:write", postBy("v"), false],
    ["nobody", nobody, "posts:read", postBy("a"), false],
  ] as const)("%s: %s on %o → %s", (_, subject, action, resource, allowed) => {
    expect(can(subject, action, resource)).toBe(allowed);
  });

  it("grants through ACL entries, to a user or to a role", () => {
    const shared = postBy("a", { acl: [{ principal: "user:v", actions: ["posts:write"] }] });
    expect(can(viewer, "posts:write", shared)).toBe(true);
    expect(can(nobody, "posts:write", shared)).toBe(false);
    const forEditors = postBy("a", { acl: [{ principal: "role:editor", actions: ["posts:*"] }] });
    expect(can(editor, "posts:delete", forEditors)).toBe(true);
  });

  it("refuses an action on a resource of another type, and unknown conditions", () => {
    expect(can(admin, "posts:read", { type: "users" })).toBe(false);
    expect(can({ sub: "x", permissions: ["posts:read@full-moon"] }, "posts:read", postBy("x"))).toBe(false);
  });

  it("never reads built-in object properties or several @ as conditions", () => {
    for (const grant of [
      "posts:write@constructor",
      "posts:write@__proto__",
      "posts:write@toString",
      "posts:write@owner@x",
    ]) {
      expect(can({ sub: "x", permissions: [grant] }, "posts:write", postBy("y"))).toBe(false);
      expect(can({ sub: "x", permissions: [grant] }, "posts:write")).toBe(false);
    }
  });

  it("does not let a wildcard cross resource types", () => {
    expect(can({ sub: "x", permissions: ["posts:*"] }, "postsx:read")).toBe(false);
    expect(can({ sub: "x", permissions: ["*"] }, "anything:at-all")).toBe(true);
  });

  it("an ACL naming the user grants a bound credential (key, OAuth token) only actions its scopes cover", () => {
    const shared = postBy("someone-else", { acl: [{ principal: "user:k", actions: ["posts:*"] }] });
    const session = { sub: "k", roles: [], permissions: [] };
    expect(can(session, "posts:delete", shared)).toBe(true);
    const key = { ...session, permissions: ["posts:read"], bound: ["posts:read"] };
    expect(can(key, "posts:read", shared)).toBe(true);
    expect(can(key, "posts:delete", shared)).toBe(false);
    // A conditional scope bounds by its action; the ACL decides the resource.
    expect(can({ ...session, bound: ["posts:write@owner"] }, "posts:write", shared)).toBe(true);
  });

  it("subjectOf binds any token or key answer that carries a scope", () => {
    const base = { iss: "i", sub: "k", aud: "a", exp: 0, iat: 0, jti: "j" };
    expect(subjectOf({ ...base, scope: "posts:read openid" }).bound).toEqual(["posts:read", "openid"]);
    expect(subjectOf(base).bound).toBeUndefined();
  });
});
