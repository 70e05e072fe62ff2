/**
 * @module identity/user-store
 * D1 access to the `users` table. The only place that knows its SQL.
 */
import { RoleStore } from "../authz/role-store";

export interface UserRecord {
  id: string;
  email: string;
  /** NFKC + case-folded `email`, unique (lib/email.ts emailKey); NULL for rows not yet keyed (migration 0010). */
  email_key: string | null;
  /** Null for an account without a password (it signs in another way). */
  password_hash: string | null;
  email_verified_at: number | null;
  tokens_not_before: number;
  /** Access tokens (only) issued before this are void: raised by role changes. */
  access_not_before: number;
  disabled_at: number | null;
  /** 1 while the user has a confirmed TOTP authenticator: logins then need a second factor. */
  mfa_enabled: number;
  created_at: number;
  updated_at: number;
}

export interface NewUser {
  id: string;
  email: string;
  emailKey: string;
  passwordHash: string | null;
  emailVerifiedAt: number | null;
  now: number;
}

export interface UserStoreOptions {
  /** Roles every new user is given in the transaction that inserts it (DEFAULT_ROLES). */
  defaultRoles: string[];
  /** Told the default roles that are no rows in `roles` (skipped), when a user was inserted without them. */
  onUnknownRoles: (names: string[]) => void;
}

export class UserStore {
  readonly #db: D1Database;
  readonly #o: UserStoreOptions;

  constructor(db: D1Database, options: UserStoreOptions) {
    this.#db = db;
    this.#o = options;
  }

  /**
   * The user whose address has `key`; a row not yet keyed is found by its
   * stored address. The exact stored address wins over a key match, so an
   * account keyed later cannot shadow an older one not keyed yet.
   */
  findByEmail(key: string, stored: string): Promise<UserRecord | null> {
    return this.#db
      .prepare(
        `SELECT * FROM users WHERE email_key = ?1 OR (email_key IS NULL AND email = ?2)
         ORDER BY email = ?2 DESC LIMIT 1`,
      )
      .bind(key, stored)
      .first<UserRecord>();
  }

  findById(id: string): Promise<UserRecord | null> {
    return this.#db.prepare("SELECT * FROM users WHERE id = ?").bind(id).first<UserRecord>();
  }

  /**
   * Inserts the user with the default roles, in one batch (one transaction: no
   * user ever exists without them); returns false (and changes nothing) when
   * the email (or its key) is taken.
   */
  async insert(user: NewUser): Promise<boolean> {
    // ON CONFLICT DO NOTHING (either unique index: the address or its key) makes
    // "taken" an answer instead of an exception, and leaves the existing row untouched.
    const insertUser = this.#db
      .prepare(
        `INSERT INTO users (id, email, email_key, password_hash, email_verified_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      )
      .bind(user.id, user.email, user.emailKey, user.passwordHash, user.emailVerifiedAt, user.now, user.now);
    const { defaultRoles } = this.#o;
    if (defaultRoles.length === 0) return (await insertUser.run()).meta.changes === 1;
    // The roles statement joins on the new row, so it gives nothing when the insert did nothing.
    const [inserted, given] = await this.#db.batch([
      insertUser,
      RoleStore.assignDefaultsStatement(this.#db, user.id, defaultRoles, user.now),
    ]);
    if (inserted?.meta.changes !== 1) return false;
    const givenRoles = new Set(((given?.results ?? []) as { role: string }[]).map((row) => row.role));
    const unknown = defaultRoles.filter((role) => !givenRoles.has(role));
    if (unknown.length > 0) this.#o.onUnknownRoles(unknown);
    return true;
  }

  /**
   * Replaces the hash only if it is still the one we verified against (no lost
   * update); true when it did.
   */
  async replacePasswordHash(id: string, expectedHash: string | null, newHash: string, now: number): Promise<boolean> {
    // IS, not =: an account without a password (NULL) can be given one the same way.
    const result = await this.#db
      .prepare("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash IS ?")
      .bind(newHash, now, id, expectedHash)
      .run();
    return result.meta.changes === 1;
  }

  /**
   * Marks the email verified and, if the token carried one, installs the password
   * chosen at that signup. Only an unverified account changes: a verified one
   * keeps its password whatever token is presented.
   */
  async completeVerification(id: string, pendingPasswordHash: string | null, now: number): Promise<void> {
    await this.#db
      .prepare(
        `UPDATE users SET email_verified_at = ?, password_hash = COALESCE(?, password_hash), updated_at = ?
         WHERE id = ? AND email_verified_at IS NULL`,
      )
      .bind(now, pendingPasswordHash, now, id)
      .run();
  }

  /**
   * Marks the address verified by a magic link: its owner proved the mailbox.
   * A password set before the address was proven is dropped with it: it was
   * never shown to be the mailbox owner's (someone else may have signed up
   * with their address), so it must not become a way in. Only an unverified
   * account changes.
   */
  async verifyByMailbox(id: string, now: number): Promise<void> {
    await this.#db
      .prepare(
        `UPDATE users SET email_verified_at = ?, password_hash = NULL, updated_at = ?
         WHERE id = ? AND email_verified_at IS NULL`,
      )
      .bind(now, now, id)
      .run();
  }

  /**
   * A password reset, for the user that `userIdSql` names (a one-time secret's
   * spend, see OneTimeSecretStore.spendWith): the new hash, the email marked
   * verified (the reset link proved the address) and every earlier session
   * voided through the not-before marker. A disabled user is left alone.
   */
  resetPasswordStatement(
    userIdSql: string,
    params: unknown[],
    newPasswordHash: string,
    now: number,
  ): D1PreparedStatement {
    return this.#db
      .prepare(
        `UPDATE users SET password_hash = ?, email_verified_at = COALESCE(email_verified_at, ?),
           tokens_not_before = MAX(tokens_not_before, ?), updated_at = ?
         WHERE disabled_at IS NULL AND id = ${userIdSql}`,
      )
      .bind(newPasswordHash, now, now, now, ...params);
  }

  /** Raises (never lowers) the access-token-only not-before marker (role changes). */
  async raiseAccessNotBefore(id: string, notBefore: number, now: number): Promise<void> {
    await this.#db
      .prepare("UPDATE users SET access_not_before = MAX(access_not_before, ?), updated_at = ? WHERE id = ?")
      .bind(notBefore, now, id)
      .run();
  }

  /** Disables (a time) or enables (null) the account. Returns false for an unknown id. */
  async setDisabled(id: string, disabledAt: number | null, now: number): Promise<boolean> {
    const result = await this.#db
      .prepare("UPDATE users SET disabled_at = ?, updated_at = ? WHERE id = ?")
      .bind(disabledAt, now, id)
      .run();
    return result.meta.changes === 1;
  }

  /**
   * Users whose email contains `query` (or all), ordered by id, after `cursor`
   * (keyset paging: stable under inserts, no OFFSET scans).
   */
  async search(query: string, cursor: string | null, limit: number): Promise<UserRecord[]> {
    const { results } = await this.#db
      .prepare(
        `SELECT * FROM users WHERE (?1 = '' OR instr(email, ?1) > 0) AND (?2 IS NULL OR id > ?2)
         ORDER BY id LIMIT ?3`,
      )
      .bind(query, cursor, limit)
      .all<UserRecord>();
    return results;
  }

  /** Raises (never lowers) the not-before marker. */
  async raiseTokensNotBefore(id: string, notBefore: number, now: number): Promise<void> {
    await this.#db
      .prepare("UPDATE users SET tokens_not_before = MAX(tokens_not_before, ?), updated_at = ? WHERE id = ?")
      .bind(notBefore, now, id)
      .run();
  }
}
