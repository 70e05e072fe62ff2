/**
 * @module verify/policy
 * `can(subject, action, resource?)`: the one authorization decision, used by the
 * auth Worker and exported beside the verifier so APIs decide the same way at
 * the edge, from the token alone. Rules are data, not ifs spread over routes:
 *  - RBAC: a role grants permissions `<resource>:<action>`; `<resource>:*` covers
 *    every action on that resource type, `*` everything;
 *  - attribute rules: a grant may carry a condition, `posts:write@owner`: it
 *    only counts when the resource's `owner_id` is the subject (editors may
 *    edit only their own posts). Conditions live in the role's data (D1
 *    `role_permissions`) and travel in the token's `permissions` claim;
 *  - ACLs: a resource may list principals (`user:<id>`, `role:<name>`) with the
 *    actions granted to each.
 * Deny by default: no grant that applies, no access. An unknown condition never grants.
 * A credential that acts for a user within limits (an API key, an OAuth
 * client's token) carries `bound`: an ACL naming the user then grants only
 * actions its grants or scopes cover, so a narrow key never inherits the user's ACLs.
 */

export interface Subject {
  /** The user id (`sub`). */
  sub: string;
  roles?: readonly string[] | undefined;
  /** Grants, possibly conditional: `posts:read`, `posts:*`, `posts:write@owner`. */
  permissions?: readonly string[] | undefined;
  /** The actions a delegated credential is limited to (its scopes); absent: the user's own session. */
  bound?: readonly string[] | undefined;
}

export interface AclEntry {
  /** `user:<id>` or `role:<name>`. */
  principal: string;
  actions: readonly string[];
}

export interface Resource {
  /** The resource type; must match the action's prefix (`posts` for `posts:write`). */
  type: string;
  owner_id?: string | undefined;
  acl?: readonly AclEntry[] | undefined;
}

type Condition = (subject: Subject, resource: Resource | undefined) => boolean;

const CONDITIONS: Record<string, Condition> = {
  owner: (subject, resource) => resource?.owner_id !== undefined && resource.owner_id === subject.sub,
};

/** Whether `granted` (an action pattern, no condition) covers `action`. */
export function permissionCovers(granted: string, action: string): boolean {
  if (granted === action || granted === "*") return true;
  const [resource] = action.split(":");
  return granted === `${resource}:*`;
}

export function can(subject: Subject, action: string, resource?: Resource): boolean {
  if (resource && action.split(":")[0] !== resource.type) return false;
  const acl = resource?.acl ?? [];
  const withinBound =
    subject.bound === undefined || subject.bound.some((grant) => permissionCovers(grant.split("@")[0] ?? "", action));
  if (
    withinBound &&
    acl.some((entry) => principalIs(entry.principal, subject) && entry.actions.some((a) => permissionCovers(a, action)))
  ) {
    return true;
  }
  return (subject.permissions ?? []).some((grant) => {
    const parts = grant.split("@");
    // More than one condition is malformed, and malformed never grants.
    if (parts.length > 2) return false;
    const [pattern = "", condition] = parts;
    if (!permissionCovers(pattern, action)) return false;
    if (condition === undefined) return true;
    // Own properties only: "constructor" or "__proto__" must not read as conditions.
    const check = Object.hasOwn(CONDITIONS, condition) ? CONDITIONS[condition] : undefined;
    return check ? check(subject, resource) : false;
  });
}

/**
 * Whether `grant` stays within `permissions` (delegation: API key scopes, or
 * roles an admin hands out): held exactly, or covered by an unconditional grant.
 */
export function grantWithin(grant: string, permissions: readonly string[], sub: string): boolean {
  if (permissions.includes(grant)) return true;
  const [action = ""] = grant.split("@", 1);
  return can({ sub, permissions: permissions.filter((p) => !p.includes("@")) }, action);
}

function principalIs(principal: string, subject: Subject): boolean {
  if (principal === `user:${subject.sub}`) return true;
  return principal.startsWith("role:") && (subject.roles ?? []).includes(principal.slice("role:".length));
}
