/**
 * @module authn/passkeys/passkey-store
 * D1 access to `passkeys` (migration 0017): a user's WebAuthn credentials,
 * only their public keys. The signature counter moves by one guarded UPDATE,
 * so two concurrent logins with the same counter value cannot both pass.
 */

export interface PasskeyRecord {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: string;
  counter: number;
  transports: string;
  aaguid: string;
  backed_up: number;
  device_type: string;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

export interface NewPasskey {
  id: string;
  userId: string;
  credentialId: string;
  publicKey: string;
  counter: number;
  transports: string[];
  aaguid: string;
  backedUp: boolean;
  deviceType: string;
  name: string;
  now: number;
}

export class PasskeyStore {
  readonly #db: D1Database;

  constructor(db: D1Database) {
    this.#db = db;
  }

  /** Stores a new credential; false when the credential id is registered already (to anyone). */
  async insert(passkey: NewPasskey): Promise<boolean> {
    const result = await this.#db
      .prepare(
        `INSERT INTO passkeys (id, user_id, credential_id, public_key, counter, transports, aaguid, backed_up,
           device_type, name, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (credential_id) DO NOTHING`,
      )
      .bind(
        passkey.id,
        passkey.userId,
        passkey.credentialId,
        passkey.publicKey,
        passkey.counter,
        JSON.stringify(passkey.transports),
        passkey.aaguid,
        passkey.backedUp ? 1 : 0,
        passkey.deviceType,
        passkey.name,
        passkey.now,
      )
      .run();
    return result.meta.changes === 1;
  }

  findByCredentialId(credentialId: string): Promise<PasskeyRecord | null> {
    return this.#db.prepare("SELECT * FROM passkeys WHERE credential_id = ?").bind(credentialId).first<PasskeyRecord>();
  }

  async listFor(userId: string): Promise<PasskeyRecord[]> {
    const { results } = await this.#db
      .prepare("SELECT * FROM passkeys WHERE user_id = ? ORDER BY created_at, id")
      .bind(userId)
      .all<PasskeyRecord>();
    return results;
  }

  /**
   * Records a use: the new counter (only if it still moves forward from what
   * was read, or both are 0), the backup state, the time. False when another
   * login got there first with this counter value.
   */
  async recordUse(id: string, seenCounter: number, newCounter: number, backedUp: boolean, now: number) {
    const result = await this.#db
      .prepare(
        `UPDATE passkeys SET counter = ?, backed_up = ?, last_used_at = ?
         WHERE id = ? AND counter = ?`,
      )
      .bind(newCounter, backedUp ? 1 : 0, now, id, seenCounter)
      .run();
    return result.meta.changes === 1;
  }

  async rename(id: string, userId: string, name: string): Promise<PasskeyRecord | null> {
    return this.#db
      .prepare("UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ? RETURNING *")
      .bind(name, id, userId)
      .first<PasskeyRecord>();
  }

  /**
   * Deletes the user's passkey unless it is their last way to sign in: an
   * account without a password keeps its last passkey. One statement, so two
   * concurrent deletes cannot remove the last two. "deleted", "last" or "missing".
   */
  async deleteUnlessLast(id: string, userId: string): Promise<"deleted" | "last" | "missing"> {
    const result = await this.#db
      .prepare(
        `DELETE FROM passkeys WHERE id = ? AND user_id = ?
           AND (EXISTS (SELECT 1 FROM users WHERE id = ? AND password_hash IS NOT NULL)
                OR (SELECT COUNT(*) FROM passkeys WHERE user_id = ?) > 1)`,
      )
      .bind(id, userId, userId, userId)
      .run();
    if (result.meta.changes === 1) return "deleted";
    const exists = await this.#db
      .prepare("SELECT 1 AS one FROM passkeys WHERE id = ? AND user_id = ?")
      .bind(id, userId)
      .first();
    return exists ? "last" : "missing";
  }
}
