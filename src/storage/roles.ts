/**
 * @module storage/roles
 * D1 access to roles, permissions and who holds which role.
 */

export interface Grants {
  roles: string[];
  permissions: string[];
}

export class RoleStore {
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  /** The user's roles and the permissions they grant (deduplicated, sorted). One query. */
  async grantsFor(userId: string): Promise<Grants> {
    const { results } = await this.#db
      .prepare(
        `SELECT ur.role AS role, rp.permission AS permission FROM user_roles ur
         LEFT JOIN role_permissions rp ON rp.role = ur.role WHERE ur.user_id = ?`,
      )
      .bind(userId)
      .all<{ role: string; permission: string | null }>();
    const roles = new Set<string>();
    const permissions = new Set<string>();
    for (const row of results) {
      roles.add(row.role);
      if (row.permission) permissions.add(row.permission);
    }
    return { roles: [...roles].sort(), permissions: [...permissions].sort() };
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
