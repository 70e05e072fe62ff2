/**
 * @module authz/roles
 * What the routes ask about a user's roles: their grants (roles and the
 * permissions those give), and everything a permission check needs in one
 * consistent D1 read. Changing roles is the admin service's.
 */
import type { AccountState, Grants, RoleStore } from "./role-store";

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
