/**
 * @module admin/service
 * What administrators do to other users: disable and enable accounts, assign
 * and remove roles, end sessions. Every change is audited with the acting admin.
 * Nobody changes their own roles or disables themselves here (no endpoint lets
 * anyone grant themselves a role), and nobody assigns a role that grants more
 * than they hold.
 */
import type { ApiKeyService } from "../api-keys/service";
import { insufficientScope, notFound } from "../app/errors/codes";
import type { RequestContext } from "../app/request-context";
import type { RoleStore } from "../authz/role-store";
import type { UserStore } from "../identity/user-store";
import type { UserService } from "../identity/users";
import type { AccountSessions } from "../sessions/account-sessions";
import { grantWithin } from "../verify/policy";

export interface AdminServiceOptions {
  users: UserService;
  userStore: UserStore;
  roles: RoleStore;
  sessions: AccountSessions;
  apiKeys: ApiKeyService;
}

/** Who changes a role: a user, or one of their API keys (its scopes then bound what it can hand out). */
export interface RoleActor {
  userId: string;
  keyScopes?: readonly string[];
}

export class AdminService {
  readonly #o: AdminServiceOptions;

  constructor(options: AdminServiceOptions) {
    this.#o = options;
  }

  /** Disabling kills every session and token of the user at once. */
  async setDisabled(adminId: string, userId: string, disabled: boolean, ctx: RequestContext): Promise<void> {
    const { now } = ctx;
    if (adminId === userId) throw insufficientScope("administrators cannot disable themselves");
    await this.#o.users.requireExisting(userId);
    await this.#o.userStore.setDisabled(userId, disabled ? now : null, now);
    // Every credential dies with the account: sessions and tokens (not-before), and
    // API keys for good — re-enabling the account must not bring old keys back.
    if (disabled) await Promise.all([this.#o.sessions.endAll(userId, now), this.#o.apiKeys.revokeAll(userId, now)]);
    ctx.audit.record(disabled ? "user_disabled" : "user_enabled", userId, { by: adminId }, now);
  }

  /**
   * A role change takes effect at once: access tokens carrying the old roles die
   * (the access not-before marker); sessions live on and refresh into tokens with the new ones.
   */
  async changeRole(
    actor: RoleActor,
    userId: string,
    role: string,
    change: "assign" | "remove",
    ctx: RequestContext,
  ): Promise<void> {
    const adminId = actor.userId;
    const { now } = ctx;
    if (adminId === userId) throw insufficientScope("nobody changes their own roles");
    await this.#o.users.requireExisting(userId);
    if (!(await this.#o.roles.roleExists(role))) throw notFound("no such role");
    if (change === "assign") await this.#checkWithin(actor, role);
    const changed =
      change === "assign"
        ? await this.#o.roles.assign(userId, role, adminId, now)
        : await this.#o.roles.remove(userId, role);
    if (!changed) return;
    await this.#o.sessions.expireAccessTokens(userId, now);
    ctx.audit.record(change === "assign" ? "role_assigned" : "role_removed", userId, { role, by: adminId }, now);
  }

  /**
   * Least privilege, transitively: nobody hands out more than they hold, and
   * an API key no more than its scopes (of what its owner holds): a key scoped
   * `users:write` must not make anyone an admin.
   */
  async #checkWithin(actor: RoleActor, role: string): Promise<void> {
    const adminId = actor.userId;
    const [held, granted] = await Promise.all([this.#o.roles.grantsFor(adminId), this.#o.roles.permissionsOf(role)]);
    const usable = actor.keyScopes
      ? actor.keyScopes.filter((scope) => grantWithin(scope, held.permissions, adminId))
      : held.permissions;
    const beyond = granted.filter((grant) => !grantWithin(grant, usable, adminId));
    if (beyond.length > 0) {
      throw insufficientScope(`the role grants permissions you do not hold: ${beyond.join(", ")}`);
    }
  }
}
