/**
 * @module api-keys/service
 * API keys for programs acting as a user: `elk_<id>_<secret>` (a recognizable
 * prefix, so secret scanners can find leaked keys), shown once, stored as
 * SHA-256 of the secret. A key carries scopes, a subset of its creator's
 * permissions; using it, a request may do what both the scopes and the user's
 * current permissions allow — so a role removed from the user is removed from
 * every key of theirs at once. A key whose owner is disabled or gone is refused.
 * A rotation gives a key a new secret; the old one may stay valid for a grace
 * period of at most 24 hours, so a deployment can switch without downtime.
 */
import { AuthError, insufficientScope, invalidRequest } from "../app/errors/codes";
import type { RequestContext } from "../app/request-context";
import type { Grants } from "../authz/role-store";
import { sha256Hex } from "../lib/crypto/digest";
import { hex } from "../lib/crypto/encoding";
import { randomBytes, randomToken } from "../lib/crypto/random";
import { timingSafeEqualStrings } from "../lib/crypto/timing-safe";
import type { Mailer } from "../mail/mailer";
import { apiKeyCreatedMail, apiKeyRotatedMail } from "../mail/templates";
import type { RevocationWriter } from "../sessions/revocation-store";
import { grantWithin } from "../verify/policy";
import type { ApiKeyRow, ApiKeyStore, KeyWithOwner } from "./api-key-store";
import { keyPrincipalId } from "./key-claims";
import type { NonceClaimsStore } from "./nonce-claims-store";
import { checkSignature, type SignedRequestParts, signingSecretFor } from "./request-signing";

const PREFIX = "elk_";
const KEY_SHAPE = /^elk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const KEY_ID_SHAPE = /^[0-9a-f]{16}$/;
const LAST_USED_INTERVAL_MS = 60_000;
export const MAX_ROTATION_GRACE_SECONDS = 86_400;
const NO_HASH = "0".repeat(64);

export interface ApiKeyView {
  id: string;
  prefix: string;
  name: string;
  scopes: string[];
  created_at: string;
  last_used_at: string | null;
  /** The `where` label of the Worker that last accepted it (null: edgelock itself, or never). */
  last_used_where: string | null;
  expires_at: string | null;
  /** After a rotation with grace: until when the previous secret is still accepted. */
  previous_secret_expires_at: string | null;
  signing: boolean;
}

/** Who a presented key (or a request signed with one) acts for. */
export interface KeyIdentity {
  userId: string;
  keyId: string;
  scopes: string[];
  /** Epoch ms; null for a key made before keys had to expire. */
  expiresAt: number | null;
  /** The owner's permissions when the key was checked (the key may use only those of its scopes). */
  ownerPermissions: string[];
}

/** Why a key is refused; only a key whose secret matched is told apart from an unknown one. */
export type KeyRefusal = "unknown" | "revoked" | "expired" | "owner_disabled";

export type KeyCheck = { ok: true; key: KeyIdentity } | { ok: false; code: KeyRefusal };

export interface NewApiKey {
  name: string;
  scopes: string[];
  expiresAt: number | null;
  signing: boolean;
}

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(PREFIX);
}

export function apiKeyView(row: ApiKeyRow): ApiKeyView {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: row.id,
    prefix: `${PREFIX}${row.id}`,
    name: row.name,
    scopes: JSON.parse(row.scopes) as string[],
    created_at: new Date(row.created_at).toISOString(),
    last_used_at: iso(row.last_used_at),
    last_used_where: row.last_used_where,
    expires_at: iso(row.expires_at),
    previous_secret_expires_at: iso(row.previous_secret_expires_at),
    signing: row.signing === 1,
  };
}

export interface ApiKeyServiceOptions {
  store: ApiKeyStore;
  nonces: NonceClaimsStore;
  mailer: Mailer;
  publicUrl: string;
  /** Master secret that signing secrets derive from; null: request signing is off. */
  signingMaster: string | null;
  /** A key without `expires_at` lives `defaultTtlMs`; none lives longer than `maxTtlMs`. */
  lifetime: { defaultTtlMs: number; maxTtlMs: number };
  /** Where a revoked key's exchanged access tokens are deny-listed (their `sid` is the key's prefix). */
  revocation: RevocationWriter;
  /** How long that deny-listing must last: until every access token issued now has expired. */
  accessTokenHorizonMs: number;
}

export class ApiKeyService {
  readonly #o: ApiKeyServiceOptions;

  constructor(options: ApiKeyServiceOptions) {
    this.#o = options;
  }

  /** Who the presented `elk_…` string acts for, or null for an unknown, expired or revoked key. */
  async authenticate(presented: string, ctx: RequestContext): Promise<KeyIdentity | null> {
    const check = await this.check(presented, ctx, null);
    return check.ok ? check.key : null;
  }

  /**
   * The presented key's identity, or why it is refused. `where` labels the
   * Worker that accepts it (shown in the owner's key list); null for edgelock.
   */
  async check(presented: string, ctx: RequestContext, where: string | null): Promise<KeyCheck> {
    const match = KEY_SHAPE.exec(presented);
    if (!match?.[1] || !match[2]) return { ok: false, code: "unknown" };
    const found = await this.#o.store.findWithOwner(match[1]);
    const row = found?.row;
    // Both hashes compared in constant time even when the id is unknown, so timing says nothing about ids.
    const presentedHash = await sha256Hex(match[2]);
    const current = timingSafeEqualStrings(presentedHash, row?.secret_hash ?? NO_HASH);
    const previous = timingSafeEqualStrings(presentedHash, row?.previous_secret_hash ?? NO_HASH);
    const previousLive = row?.previous_secret_expires_at != null && row.previous_secret_expires_at > ctx.now;
    if (!found || !row || !(current || (previous && previousLive))) return { ok: false, code: "unknown" };
    if (row.revoked_at !== null) return { ok: false, code: "revoked" };
    if (!isLive(row, ctx.now)) return { ok: false, code: "expired" };
    const key = this.#identity(found, ctx, where);
    return key ? { ok: true, key } : { ok: false, code: "owner_disabled" };
  }

  /**
   * Who a signed request acts for, or the reason it is refused (for the log).
   * Claims the nonce only after the signature checks out, so a forger cannot
   * burn someone else's nonces.
   */
  async authenticateSigned(
    keyId: string,
    parts: SignedRequestParts,
    signature: string,
    ctx: RequestContext,
    where: string | null = null,
  ): Promise<{ key: KeyIdentity } | { reason: string }> {
    const { now } = ctx;
    if (!this.#o.signingMaster) return { reason: "request signing is not configured" };
    const found = KEY_ID_SHAPE.test(keyId) ? await this.#o.store.findWithOwner(keyId) : null;
    const row = found?.row;
    if (!found || row?.signing !== 1 || !isLive(row, now)) return { reason: "unknown, revoked or expired signing key" };
    const check = await checkSignature(await signingSecretFor(this.#o.signingMaster, keyId), parts, signature, now);
    if (!check.ok) return { reason: check.reason };
    if (!(await this.#o.nonces.claim(keyId, parts.nonce, check.expiresAt, now))) return { reason: "replayed nonce" };
    const key = this.#identity(found, ctx, where);
    return key ? { key } : { reason: "owner disabled" };
  }

  /**
   * Mints a key for `owner` (whose authentication the route has checked is
   * fresh) and mails the owner about it after the response: a key that outlives
   * every session should never appear unannounced.
   */
  async create(
    owner: { id: string; email: string },
    grants: Grants,
    request: NewApiKey,
    ctx: RequestContext,
  ): Promise<{ key: string; signingSecret: string | null; view: ApiKeyView }> {
    const { now } = ctx;
    if (request.signing && !this.#o.signingMaster) throw invalidRequest("signing: request signing is not configured");
    const outside = request.scopes.filter((scope) => !grantWithin(scope, grants.permissions, owner.id));
    // Least privilege: a key can never do more than its creator.
    if (outside.length > 0) throw insufficientScope(`you do not hold these permissions: ${outside.join(", ")}`);
    const id = hex(randomBytes(8));
    const secret = randomToken(32);
    const row: ApiKeyRow = {
      id,
      user_id: owner.id,
      name: request.name,
      scopes: JSON.stringify([...new Set(request.scopes)].sort()),
      secret_hash: await sha256Hex(secret),
      signing: request.signing ? 1 : 0,
      created_at: now,
      last_used_at: null,
      last_used_where: null,
      expires_at: this.#expiry(request.expiresAt, now),
      revoked_at: null,
      previous_secret_hash: null,
      previous_secret_expires_at: null,
    };
    await this.#o.store.insert(row);
    const signingSecret =
      request.signing && this.#o.signingMaster ? await signingSecretFor(this.#o.signingMaster, id) : null;
    const view = apiKeyView(row);
    ctx.defer(
      this.#o.mailer.send(apiKeyCreatedMail(owner.email, this.#o.publicUrl, view, ctx.meta.ip)),
      "api_key_notice",
    );
    return { key: `${PREFIX}${id}_${secret}`, signingSecret, view };
  }

  /** The key's end: the one asked for, or the default lifetime; never past the maximum. */
  #expiry(requested: number | null, now: number): number {
    const { defaultTtlMs, maxTtlMs } = this.#o.lifetime;
    if (requested === null) return now + defaultTtlMs;
    if (requested <= now) throw invalidRequest("expires_at: must be in the future");
    if (requested > now + maxTtlMs) {
      throw invalidRequest(`expires_at: at most ${Math.round(maxTtlMs / 86_400_000)} days from now`);
    }
    return requested;
  }

  list(userId: string): Promise<ApiKeyView[]> {
    return this.#o.store.listForUser(userId).then((rows) => rows.map(apiKeyView));
  }

  /**
   * A new secret for one of the owner's live keys (same id, scopes and
   * expiry); the old secret stays accepted for `graceSeconds` (0 – 24 h).
   * The route has checked that the owner's authentication is fresh.
   */
  async rotate(
    id: string,
    owner: { id: string; email: string },
    graceSeconds: number,
    ctx: RequestContext,
  ): Promise<string> {
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_ROTATION_GRACE_SECONDS) {
      throw invalidRequest(`grace_seconds: a whole number from 0 to ${MAX_ROTATION_GRACE_SECONDS}`);
    }
    const secret = randomToken(32);
    const graceEndsAt = ctx.now + graceSeconds * 1000;
    if (
      !KEY_ID_SHAPE.test(id) ||
      !(await this.#o.store.rotate(id, owner.id, await sha256Hex(secret), graceEndsAt, ctx.now))
    ) {
      throw new AuthError("not_found", "no such API key");
    }
    const notice = apiKeyRotatedMail(owner.email, this.#o.publicUrl, { id, graceSeconds, now: ctx.now }, ctx.meta.ip);
    ctx.defer(this.#o.mailer.send(notice), "api_key_notice");
    return `${PREFIX}${id}_${secret}`;
  }

  /** Revokes one of the user's keys; 404 for someone else's or an unknown one. */
  async revoke(id: string, userId: string, now: number): Promise<void> {
    // Revoking a key already revoked still writes the deny-list entry, so a retry
    // after a failed KV write completes the job instead of answering 404.
    if (!(await this.#o.store.revoke(id, userId, now)) && !(await this.#o.store.isOwnRevoked(id, userId))) {
      throw new AuthError("not_found", "no such API key");
    }
    // Access tokens exchanged for the key die with it, wherever revocation is checked.
    await this.#o.revocation.revokeSession(keyPrincipalId(id), now + this.#o.accessTokenHorizonMs, now);
  }

  /** Every key of the user dies (disabling the account, a password reset, logout-all with keys); returns how many. */
  revokeAll(userId: string, now: number): Promise<number> {
    return this.#o.store.revokeAllFor(userId, now);
  }

  /** The key's identity if its owner is still enabled; its last use is recorded after the response. */
  #identity(found: KeyWithOwner, ctx: RequestContext, where: string | null): KeyIdentity | null {
    const { row, owner } = found;
    if (!owner || owner.disabled_at !== null) return null;
    // At most one write a minute per key, unless the accepting Worker changed.
    const stale = row.last_used_at === null || ctx.now - row.last_used_at >= LAST_USED_INTERVAL_MS;
    if (stale || row.last_used_where !== where) {
      ctx.defer(this.#o.store.markUsed(row.id, ctx.now, where), "api_key_mark_used", { key_id: row.id });
    }
    return {
      userId: row.user_id,
      keyId: row.id,
      scopes: JSON.parse(row.scopes) as string[],
      expiresAt: row.expires_at,
      ownerPermissions: found.ownerPermissions,
    };
  }
}

function isLive(row: ApiKeyRow, now: number): boolean {
  return row.revoked_at === null && (row.expires_at === null || row.expires_at > now);
}
