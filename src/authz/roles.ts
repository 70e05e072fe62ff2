/**
 * @module authz/roles
 * What the routes ask about a user's roles: their grants (roles and the
 * permissions those give), and everything a permission check needs in one
 * consistent D1 read. Changing roles is the admin service's.
 */
import { logEvent } from "../lib/log";
import type { AccountState, Grants, RoleStore } from "./role-store";

const reportedUnknownRoles = new Set<string>();

/**
 * A DEFAULT_ROLES name that is no row in `roles` is skipped when a user is
 * created (signup must not fail over configuration only D1 can check); it is
 * logged once per isolate and name, not once per signup.
 */
export function reportUnknownDefaultRoles(names: string[]): void {
  const fresh = names.filter((name) => !reportedUnknownRoles.has(name));
  if (fresh.length === 0) return;
  for (const name of fresh) reportedUnknownRoles.add(name);
  logEvent("warn", "default_role_unknown", {
    roles: fresh,
    message: "DEFAULT_ROLES names roles that are not rows in the roles table; new users are created without them",
  });
}

export class RoleService {
  readonly #store: RoleStore;

  constructor(options: { store: RoleStore }) {
    this.#store = options.store;
  }

  grantsFor(userId: string): Promise<Grants> {
    return this.#store.grantsFor(userId);
  }

  /** The account state and grants in one snapshot; null for an unknown user. */
  authorizationFor(userId: string): Promise<(Grants & AccountState) | null> {
    return this.#store.authorizationFor(userId);
  }

  /** Every permission name defined; the delegable ones are what OAuth clients may ask for. */
  permissionNames(): Promise<string[]> {
    return this.#store.permissionNames();
  }
}
