/**
 * @module services/refresh-tokens
 * Opaque, rotating refresh tokens grouped in families (one family per login).
 *
 * Rotation with a deterministic successor: when token T is issued we also store a
 * random seed s, and T's successor is HMAC-SHA256(key = T, message = s). So:
 *  - the successor is "reserved" the moment T is issued, and every exchange of T
 *    yields the same successor, which makes refresh idempotent: two tabs (or a
 *    retry after a lost response) refreshing T at once converge on one token
 *    instead of forking the family — even though KV has no compare-and-swap;
 *  - computing it needs both T (only the client has it; we keep SHA-256(T)) and
 *    s (only KV has it), so neither a KV leak nor a stolen spent token alone
 *    reveals a live token.
 * A spent token presented within the grace window returns that same successor.
 * Presented later, it is treated as theft: the whole family is revoked.
 */

import { hmacSha256, sha256Hex } from "../crypto/digest";
import { base64url, fromBase64url } from "../crypto/encoding";
import { randomId, randomToken } from "../crypto/random";
import { invalidGrant } from "../errors";
import type { FamilyRecord, RefreshTokenRecord, RefreshTokenRepository } from "../storage/refresh-tokens";

const TOKEN_PREFIX = "elr_";
const TOKEN_BYTES = 32; // 256 bits

export interface RefreshSettings {
  ttlSeconds: number;
  maxAgeSeconds: number;
  reuseGraceSeconds: number;
}

export interface IssuedRefreshToken {
  token: string;
  familyId: string;
  userId: string;
}

export interface RotationResult extends IssuedRefreshToken {
  /** The family's login time: the refresh is refused if the user's not-before marker is later. */
  familyCreatedAt: number;
}

/** Reported by `rotate` through `onReuse`, so the caller can log and audit it. */
export interface ReuseEvent {
  familyId: string;
  userId: string;
  spentAt: number;
}

export class RefreshTokenService {
  readonly #store: RefreshTokenRepository;
  readonly #settings: RefreshSettings;

  constructor(store: RefreshTokenRepository, settings: RefreshSettings) {
    this.#store = store;
    this.#settings = settings;
  }

  /** Starts a new family (a login) and returns its first token. */
  async startFamily(userId: string, now: number): Promise<IssuedRefreshToken> {
    const familyId = randomId();
    const family: FamilyRecord = {
      user_id: userId,
      created_at: now,
      expires_at: now + this.#settings.maxAgeSeconds * 1000,
    };
    const token = TOKEN_PREFIX + randomToken(TOKEN_BYTES);
    await Promise.all([
      this.#store.putFamily(familyId, family, now),
      this.#storeToken(token, familyId, userId, family.expires_at, now),
    ]);
    return { token, familyId, userId };
  }

  /**
   * Spends `token` and returns its successor. Throws invalid_grant for unknown,
   * expired or revoked tokens, and for reuse after the grace window (after
   * revoking the family and calling `onReuse`).
   */
  async rotate(token: string, now: number, onReuse: (event: ReuseEvent) => void = () => {}): Promise<RotationResult> {
    if (!token.startsWith(TOKEN_PREFIX) || !fromBase64url(token.slice(TOKEN_PREFIX.length))) {
      throw invalidGrant("the refresh token is invalid");
    }
    const tokenHash = await sha256Hex(token);
    const record = await this.#store.getToken(tokenHash, now);
    if (!record) throw invalidGrant("the refresh token is invalid or expired");
    const family = await this.#store.getFamily(record.family_id, now);
    if (!family || family.revoked_at !== undefined) throw invalidGrant("the refresh token has been revoked");

    if (record.spent_at !== undefined && now - record.spent_at > this.#settings.reuseGraceSeconds * 1000) {
      // A spent token is back after the window: either the client is replaying an
      // old token or someone else holds a copy. We cannot tell which holder is
      // legitimate, so nobody keeps the family.
      await this.revokeFamily(record.family_id, record.user_id, now);
      onReuse({ familyId: record.family_id, userId: record.user_id, spentAt: record.spent_at });
      throw invalidGrant("the refresh token has already been used");
    }

    const successor = await deriveSuccessor(token, record.seed);
    if (record.spent_at === undefined) {
      // First exchange: record the successor, then mark this token spent. A
      // concurrent exchange that also saw "active" derives the very same successor.
      await this.#storeToken(successor, record.family_id, record.user_id, family.expires_at, now);
      await this.#store.putToken(tokenHash, { ...record, spent_at: now }, now);
    }
    return { token: successor, familyId: record.family_id, userId: record.user_id, familyCreatedAt: family.created_at };
  }

  /** Ends a family of `ownerId`'s: every token in it stops working. Someone else's family is left alone. */
  async revokeFamily(familyId: string, ownerId: string, now: number): Promise<void> {
    const family = await this.#store.getFamily(familyId, now);
    if (!family || family.user_id !== ownerId || family.revoked_at !== undefined) return;
    await this.#store.putFamily(familyId, { ...family, revoked_at: now }, now);
  }

  /** The family a presented token belongs to, if the token is known (spent or not). */
  async familyOf(token: string, now: number): Promise<{ familyId: string; userId: string } | null> {
    if (!token.startsWith(TOKEN_PREFIX)) return null;
    const record = await this.#store.getToken(await sha256Hex(token), now);
    return record ? { familyId: record.family_id, userId: record.user_id } : null;
  }

  async #storeToken(token: string, familyId: string, userId: string, familyExpiresAt: number, now: number) {
    // Sliding expiry, never past the family's absolute cap.
    const expiresAt = Math.min(now + this.#settings.ttlSeconds * 1000, familyExpiresAt);
    const record: RefreshTokenRecord = {
      family_id: familyId,
      user_id: userId,
      seed: randomToken(TOKEN_BYTES),
      issued_at: now,
      expires_at: expiresAt,
    };
    await this.#store.putToken(await sha256Hex(token), record, now);
  }
}

async function deriveSuccessor(token: string, seed: string): Promise<string> {
  return TOKEN_PREFIX + base64url(await hmacSha256(token, seed));
}
