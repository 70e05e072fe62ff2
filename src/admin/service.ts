/**
 * @module services/admin
 * What administrators do to other users: disable and enable accounts, assign
 * and remove roles, end sessions. Every change is audited with the acting admin.
 * Nobody changes their own roles or disables themselves here (no endpoint lets
 * anyone grant themselves a role), and nobody assigns a role that grants more
 * than they hold.
 */

import type { ApiKeyStore } from "../api-keys/api-key-store";
import { AuthError } from "../app/errors/codes";
import type { AuditLog } from "../audit/audit-log";
import type { RoleStore } from "../authz/role-store";
import type { UserRecord, UserStore } from "../identity/user-store";
import type { SessionService } from "../sessions/refresh-sessions";
import { grantWithin } from "../verify/policy";

export class AdminService {
  readonly #users: UserStore;
  readonly #roles: RoleStore;
  readonly #sessions: SessionService;
  readonly #apiKeys: ApiKeyStore;

  constructor(users: UserStore, roles: RoleStore, sessions: SessionService, apiKeys: ApiKeyStore) {
    this.#users = users;
    this.#roles = roles;
    this.#sessions = sessions;
    this.#apiKeys = apiKeys;
  }

  async user(id: string): Promise<UserRecord> {
    const user = await this.#users.findById(id);
    if (!user) throw new AuthError(404, "not_found", "no such user");
    return user;
  }

  /** Disabling kills every session and token of the user at once. */
  async setDisabled(adminId: string, userId: string, disabled: boolean, audit: AuditLog, now: number): Promise<void> {
    if (adminId === userId) throw new AuthError(403, "insufficient_scope", "administrators cannot disable themselves");
    await this.user(userId);
    await this.#users.setDisabled(userId, disabled ? now : null, now);
    // Every credential dies with the account: sessions and tokens (not-before), and
    // API keys for good — re-enabling the account must not bring old keys back.
    if (disabled) await Promise.all([this.#sessions.logoutAll(userId, now), this.#apiKeys.revokeAllFor(userId, now)]);
    audit.record(disabled ? "user_disabled" : "user_enabled", userId, { by: adminId }, now);
  }

  /**
   * A role change takes effect at once: access tokens carrying the old roles die
   * (the access not-before marker); sessions live on and refresh into tokens with the new ones.
   */
  async changeRole(
    adminId: string,
    userId: string,
    role: string,
    change: "assign" | "remove",
    audit: AuditLog,
    now: number,
  ): Promise<void> {
    if (adminId === userId) throw new AuthError(403, "insufficient_scope", "nobody changes their own roles");
    await this.user(userId);
    if (!(await this.#roles.roleExists(role))) throw new AuthError(404, "not_found", "no such role");
    if (change === "assign") {
      // Least privilege, transitively: nobody hands out more than they hold.
      const [held, granted] = await Promise.all([this.#roles.grantsFor(adminId), this.#roles.permissionsOf(role)]);
      const beyond = granted.filter((grant) => !grantWithin(grant, held.permissions, adminId));
      if (beyond.length > 0) {
        throw new AuthError(
          403,
          "insufficient_scope",
          `the role grants permissions you do not hold: ${beyond.join(", ")}`,
        );
      }
    }
    const changed =
      change === "assign"
        ? await this.#roles.assign(userId, role, adminId, now)
        : await this.#roles.remove(userId, role);
    if (!changed) return;
    await this.#sessions.expireAccessTokens(userId, now);
    audit.record(change === "assign" ? "role_assigned" : "role_removed", userId, { role, by: adminId }, now);
  }
}
