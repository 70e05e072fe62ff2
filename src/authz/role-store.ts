/**
 * @module authz/role-store
 * D1 access to roles, permissions and who holds which role.
 */

export interface Grants {
  roles: string[];
  permissions: string[];
}

export interface AccountState {
  disabled_at: number | null;
  tokens_not_before: number;
  access_not_before: number;
}

/** The grants query, for the user that `userIdSql` (one bound parameter) names. */
function grantsOf(userIdSql: string): string {
  return `SELECT ur.role AS role, rp.permission AS permission FROM user_roles ur
          LEFT JOIN role_permissions rp ON rp.role = ur.role WHERE ur.user_id = ${userIdSql}`;
}

export function collect(rows: { role: string; permission: string | null }[]): Grants {
  const roles = new Set<string>();
  const permissions = new Set<string>();
  for (const row of rows) {
    roles.add(row.role);
    if (row.permission) permissions.add(row.permission);
  }
  return { roles: [...roles].sort(), permissions: [...permissions].sort() };
}

export class RoleStore {
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  /** The statement behind grantsFor, for batches that need the grants with other reads. */
  static grantsStatement(db: D1Database, userId: string): D1PreparedStatement {
    return RoleStore.grantsStatementWhere(db, "?", userId);
  }

  /** The same for the user that `userIdSql` (SQL with one parameter, bound to `value`) names. */
  static grantsStatementWhere(db: D1Database, userIdSql: string, value: string): D1PreparedStatement {
    return db.prepare(grantsOf(userIdSql)).bind(value);
  }

  /**
   * Gives the user (if the row exists) each of `roles` that is a row in
   * `roles`, for the batch that inserts the user; names that are not rows are
   * skipped, not an error. Returns (RETURNING) the roles it gave.
   */
  static assignDefaultsStatement(db: D1Database, userId: string, roles: string[], now: number): D1PreparedStatement {
    return db
      .prepare(
        `INSERT INTO user_roles (user_id, role, granted_at, granted_by)
         SELECT u.id, r.name, ?1, NULL FROM users u JOIN roles r ON r.name IN (SELECT value FROM json_each(?2))
         WHERE u.id = ?3
         RETURNING role`,
      )
      .bind(now, JSON.stringify(roles), userId);
  }

  /** The user's roles and the permissions they grant (deduplicated, sorted). One query. */
  async grantsFor(userId: string): Promise<Grants> {
    const { results } = await RoleStore.grantsStatement(this.#db, userId).all<{
      role: string;
      permission: string | null;
    }>();
    return collect(results);
  }

  /**
   * Everything an authorization decision needs about a user, read in one D1 batch
   * (one transaction, so one consistent snapshot): the account state and the grants.
   */
  async authorizationFor(userId: string): Promise<(Grants & AccountState) | null> {
    const [account, grants] = await this.#db.batch([
      this.#db.prepare("SELECT disabled_at, tokens_not_before, access_not_before FROM users WHERE id = ?").bind(userId),
      RoleStore.grantsStatement(this.#db, userId),
    ]);
    const state = account?.results[0] as AccountState | undefined;
    if (!state) return null;
    return { ...state, ...collect((grants?.results ?? []) as { role: string; permission: string | null }[]) };
  }

  /** The permissions a role grants. */
  async permissionsOf(role: string): Promise<string[]> {
    const { results } = await this.#db
      .prepare("SELECT permission FROM role_permissions WHERE role = ?")
      .bind(role)
      .all<{ permission: string }>();
    return results.map((row) => row.permission);
  }

  /** Every permission name defined (the `permissions` table), sorted. */
  async permissionNames(): Promise<string[]> {
    const { results } = await this.#db.prepare("SELECT name FROM permissions ORDER BY name").all<{ name: string }>();
    return results.map((row) => row.name);
  }

  async roleExists(role: string): Promise<boolean> {
    return (await this.#db.prepare("SELECT 1 AS one FROM roles WHERE name = ?").bind(role).first("one")) !== null;
  }

  /** Grants the role; false when the user already had it. */
  async assign(userId: string, role: string, grantedBy: string | null, now: number): Promise<boolean> {
    const result = await this.#db
      .prepare(
        "INSERT INTO user_roles (user_id, role, granted_at, granted_by) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
      )
      .bind(userId, role, now, grantedBy)
      .run();
    return result.meta.changes === 1;
  }

  /** Removes the role; false when the user did not have it. */
  async remove(userId: string, role: string): Promise<boolean> {
    const result = await this.#db
      .prepare("DELETE FROM user_roles WHERE user_id = ? AND role = ?")
      .bind(userId, role)
      .run();
    return result.meta.changes === 1;
  }
}
