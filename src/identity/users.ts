/**
 * @module identity/users
 * Users as the rest of the server sees them: looked up by id or email, the
 * one check that an account exists and is enabled, and the public view that
 * API responses may show (never the hash).
 */
import { invalidToken, notFound } from "../app/errors/codes";
import { emailKey, looksLikeEmail, normalizeEmail } from "../lib/email";
import type { UserRecord, UserStore } from "./user-store";

export interface PublicUser {
  id: string;
  email: string;
  email_verified: boolean;
  created_at: string;
}

export function publicUser(user: UserRecord): PublicUser {
  return {
    id: user.id,
    email: user.email,
    email_verified: user.email_verified_at !== null,
    created_at: new Date(user.created_at).toISOString(),
  };
}

/**
 * Access tokens with `iat` (seconds) below this are void for the user: the
 * later of the logout-all marker and the role-change marker, rounded up.
 */
export function accessNotBeforeSeconds(markers: { tokens_not_before: number; access_not_before: number }): number {
  return Math.ceil(Math.max(markers.tokens_not_before, markers.access_not_before) / 1000);
}

export class UserService {
  readonly #store: UserStore;

  constructor(options: { store: UserStore }) {
    this.#store = options.store;
  }

  findById(id: string): Promise<UserRecord | null> {
    return this.#store.findById(id);
  }

  /** The account an email names, if any (a read with no effect, safe to start early). */
  async findByEmail(rawEmail: string): Promise<UserRecord | null> {
    const email = normalizeEmail(rawEmail);
    return looksLikeEmail(email) ? this.#store.findByEmail(emailKey(email), email) : null;
  }

  /**
   * The user a credential belongs to, who must still exist and be enabled;
   * otherwise the credential is refused as invalid_token (RFC 6750).
   */
  async requireActive(id: string, refusal: { description?: string; tokenPresent?: boolean } = {}) {
    const user = await this.#store.findById(id);
    if (!user || user.disabled_at !== null) {
      const description = refusal.description ?? "the access token's user no longer exists or is disabled";
      throw invalidToken(description, { tokenPresent: refusal.tokenPresent });
    }
    return user;
  }

  /** A user by id for administrators; 404 when there is none. */
  /** The user if they exist and are enabled; null otherwise. */
  async findActive(id: string): Promise<UserRecord | null> {
    const user = await this.#store.findById(id);
    return user && user.disabled_at === null ? user : null;
  }

  async requireExisting(id: string): Promise<UserRecord> {
    const user = await this.#store.findById(id);
    if (!user) throw notFound("no such user");
    return user;
  }

  /** Users whose email contains `query` (or all), by id after `cursor`: keyset paging. */
  search(query: string, cursor: string | null, limit: number): Promise<UserRecord[]> {
    return this.#store.search(query, cursor, limit);
  }
}
