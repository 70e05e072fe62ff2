/**
 * @module sessions/refresh-rotation
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
 * A token is spent exactly when its successor's record exists, and was spent
 * when that record was issued: so an exchange writes one KV record (the
 * successor) and never rewrites the presented token's, and no writer — a
 * racing tab, a location with a stale view — can reset a token to unspent.
 * A spent token presented within the grace window returns that same successor.
 * Presented later, it is treated as theft: the whole family is revoked.
 * Token records live in KV; families are `sessions` rows in D1 (see FamilyState).
 */

import { invalidGrant } from "../app/errors/codes";
import { hmacSha256, sha256Hex } from "../lib/crypto/digest";
import { base64url } from "../lib/crypto/encoding";
import { randomToken } from "../lib/crypto/random";
import { settled, unwrap } from "../lib/settled";
import { deriveSuccessor, familyIdOf, formatToken, TOKEN_BYTES } from "./refresh-token-format";
import type { RefreshTokenRecord, RefreshTokenRepository } from "./refresh-token-store";

export interface RefreshSettings {
  /** Sliding lifetime of one token; the family's own cap (its row's `expires_at`) still bounds it. */
  ttlSeconds: number;
  reuseGraceSeconds: number;
}

export interface NewFamily {
  familyId: string;
  userId: string;
  /** The family's absolute cap (epoch ms): no token of it outlives this. */
  expiresAt: number;
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

/**
 * A family as its authority (the `sessions` row in D1) knows it. Families live
 * in D1, not KV, because refresh reads D1 anyway (is the user still enabled,
 * which roles go into the token), and there ending a family is strongly
 * consistent: a logout or a reuse detection holds at every location at once,
 * where a KV write could take a minute to be seen elsewhere.
 */
export interface FamilyState {
  user_id: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

/** A successful exchange: the successor, and what `load` read for it. */
export type Rotation<T> = RotationResult & { authorized: T };

export interface RotationHooks<T extends { family: FamilyState | null }, R = Rotation<T>> {
  /** Reads the family (from the id the token names) and whatever else deciding needs, beside the KV reads. */
  load: (familyId: string) => Promise<T>;
  /** Decides whether the token's user may still refresh; throwing refuses without spending the token. */
  authorize: (loaded: T, family: FamilyState) => void;
  /**
   * Must allow the request before it gets any answer that depends on the token
   * (e.g. the per-IP rate limit), so that guessing tokens meets the limit; it
   * runs beside the reads, and a rejection refuses and spends nothing.
   */
  gate?: Promise<unknown>;
  /** Ends the family after reuse past the grace window (and audits it); awaited before the refusal. */
  revokeFamily: (event: ReuseEvent) => Promise<unknown>;
  /** Builds the answer from the rotation, beside the write that spends the token (default: the rotation). */
  respond?: (rotation: Rotation<T>) => Promise<R>;
}

/** Reported by `rotate` through `revokeFamily`, so the caller can end the family, log and audit it. */
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

  /**
   * Issues the first token of a new family (a login). The family itself is the
   * caller's to record (its `sessions` row, written beside this): a token whose
   * family is unknown is refused.
   */
  async startFamily(family: NewFamily, now: number): Promise<string> {
    const token = formatToken(family.familyId, randomToken(TOKEN_BYTES));
    await this.#storeToken(token, family.familyId, family.userId, family.expiresAt, now);
    return token;
  }

  /**
   * Spends `token` and returns its successor. Throws invalid_grant for unknown,
   * expired or revoked tokens and families, and for reuse after the grace
   * window (after `revokeFamily`).
   *
   * `authorize` runs after the token checks and before anything is written: if
   * it throws (user disabled, logged out everywhere), the token is not spent.
   */
  async rotate<T extends { family: FamilyState | null }, R = Rotation<T>>(
    token: string,
    now: number,
    hooks: RotationHooks<T, R>,
  ): Promise<R> {
    // Every outcome of the reads — a token found, unknown, malformed, or a storage
    // error — waits for the gate, and a refusal there is answered at once, before
    // the reads are looked at (so not even the time of a 429 depends on the
    // token): past the limit nobody learns anything about a token.
    const gate = (hooks.gate ?? Promise.resolve()).then(
      () => null,
      (error: unknown) => ({ error }),
    );
    const reading = this.#read(token, now, hooks.load, gate).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    const refused = await gate;
    if (refused) throw refused.error;
    const read = await reading;
    if ("error" in read) throw read.error;
    const { record, successor, successorHash, loaded, existingSuccessor } = read.value;
    const family = loaded.family;
    if (!family || family.user_id !== record.user_id || family.revoked_at !== null || family.expires_at <= now) {
      throw invalidGrant("the refresh token has been revoked");
    }

    if (existingSuccessor && (await this.#isReuse(successor, existingSuccessor, now))) {
      // A spent token is back: either the client is replaying an old token or
      // someone else holds a copy. We cannot tell which holder is legitimate,
      // so nobody keeps the family.
      const spentAt = existingSuccessor.issued_at;
      await hooks.revokeFamily({ familyId: record.family_id, userId: record.user_id, spentAt });
      throw invalidGrant("the refresh token has already been used");
    }
    // May the user still refresh? Decided before anything is written: a refusal spends nothing.
    hooks.authorize(loaded, family);

    // Spend the token by recording its successor, unless that is done already
    // (a replay within the grace window). An exchange that raced us (or read a
    // stale view at another location) derives the very same successor and the
    // very same record, so the family cannot fork into two live chains; and as
    // the successor's own spent state is its successor's record, rewriting it
    // never makes a spent successor live again.
    const spend = existingSuccessor
      ? null
      : this.#successorRecord(record, family.expires_at, now).then((next) =>
          this.#store.putToken(successorHash, next, now),
        );
    const rotation = {
      token: successor,
      familyId: record.family_id,
      userId: record.user_id,
      familyCreatedAt: family.created_at,
      authorized: loaded,
    };
    // The answer (signing the access token) is built while the write is in
    // flight, and returned only once the write has landed: a successor whose
    // record failed to be written is never handed out.
    const [, response] = await Promise.all([spend, hooks.respond ? hooks.respond(rotation) : rotation]);
    return response as R;
  }

  /**
   * The reads of an exchange: the token's record, then (in parallel) what `load`
   * reads and the successor's record. `load` starts from the family id the
   * token names as soon as the gate has let the request through, beside the
   * KV reads (one round trip less than after them); so a forged token costs
   * one KV read, and the D1 read only within the limit. Throws invalid_grant for
   * a malformed or unknown token.
   */
  async #read<T>(
    token: string,
    now: number,
    load: (familyId: string) => Promise<T>,
    gate: Promise<{ error: unknown } | null>,
  ) {
    const familyId = familyIdOf(token);
    if (familyId === null) throw invalidGrant("the refresh token is invalid");
    // Settled (never rejects) until looked at below: an unknown token must not leave it unhandled.
    const loading = settled(gate.then((refused) => (refused ? null : load(familyId))));
    const record = await this.#record(token, familyId, now);
    if (!record) throw invalidGrant("the refresh token is invalid or expired");
    const successor = await deriveSuccessor(token, familyId, record.seed);
    const successorHash = await sha256Hex(successor);
    const [loadResult, existingSuccessor] = await Promise.all([loading, this.#store.getToken(successorHash, now)]);
    const loaded = unwrap(loadResult);
    // Only reached when the gate let the request through (the caller checks it first).
    if (loaded === null) throw invalidGrant("the refresh token is invalid");
    return { record, successor, successorHash, loaded, existingSuccessor };
  }

  /**
   * Whether presenting a spent token (whose successor `successor` has record
   * `successorRecord`, which is the spent mark: the token was spent when that
   * record was issued) is reuse. Only the live token's immediate predecessor may
   * be replayed inside the grace window (a racing tab, a lost response): later
   * than that, or when the successor is spent too (an older ancestor, however
   * recent: RT1 after RT1 → RT2 → RT3), it is reuse.
   */
  async #isReuse(successor: string, successorRecord: RefreshTokenRecord, now: number): Promise<boolean> {
    if (now - successorRecord.issued_at > this.#settings.reuseGraceSeconds * 1000) return true;
    const next = await deriveSuccessor(successor, successorRecord.family_id, successorRecord.seed);
    return (await this.#store.getToken(await sha256Hex(next), now)) !== null;
  }

  /** The token's record, if it exists and belongs to the family the token names. */
  async #record(token: string, familyId: string, now: number): Promise<RefreshTokenRecord | null> {
    const record = await this.#store.getToken(await sha256Hex(token), now);
    return record && record.family_id === familyId ? record : null;
  }

  /**
   * What is known about a presented token without exchanging it: its family,
   * and whether (and when) it was spent. Null for an unknown or expired token.
   */
  async inspect(
    token: string,
    now: number,
  ): Promise<{ familyId: string; userId: string; spentAt: number | null } | null> {
    const familyId = familyIdOf(token);
    const record = familyId === null ? null : await this.#record(token, familyId, now);
    if (!familyId || !record) return null;
    const successor = await this.#store.getToken(
      await sha256Hex(await deriveSuccessor(token, familyId, record.seed)),
      now,
    );
    return { familyId, userId: record.user_id, spentAt: successor?.issued_at ?? null };
  }

  /** The family a presented token belongs to, if the token is known (spent or not). */
  async familyOf(token: string, now: number): Promise<{ familyId: string; userId: string } | null> {
    const familyId = familyIdOf(token);
    const record = familyId === null ? null : await this.#record(token, familyId, now);
    return familyId && record ? { familyId, userId: record.user_id } : null;
  }

  async #storeToken(token: string, familyId: string, userId: string, familyExpiresAt: number, now: number) {
    const record: RefreshTokenRecord = {
      family_id: familyId,
      user_id: userId,
      seed: randomToken(TOKEN_BYTES),
      issued_at: now,
      expires_at: this.#expiry(familyExpiresAt, now),
    };
    await this.#store.putToken(await sha256Hex(token), record, now);
  }

  async #successorRecord(spent: RefreshTokenRecord, familyExpiresAt: number, now: number): Promise<RefreshTokenRecord> {
    // The successor's seed follows from its predecessor's (which only KV holds),
    // so every writer of this record writes the same seed.
    const seed = base64url(await hmacSha256(spent.seed, "edgelock/refresh/successor-seed"));
    return {
      family_id: spent.family_id,
      user_id: spent.user_id,
      seed,
      issued_at: now,
      expires_at: this.#expiry(familyExpiresAt, now),
    };
  }

  /** Sliding expiry, never past the family's absolute cap. */
  #expiry(familyExpiresAt: number, now: number): number {
    return Math.min(now + this.#settings.ttlSeconds * 1000, familyExpiresAt);
  }
}
