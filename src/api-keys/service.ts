/**
 * @module api-keys/service
 * API keys for programs acting as a user: `elk_<id>_<secret>` (a recognizable
 * prefix, so secret scanners can find leaked keys), shown once, stored as
 * SHA-256 of the secret. A key carries scopes, a subset of its creator's
 * permissions; using it, a request may do what both the scopes and the user's
 * current permissions allow — so a role removed from the user is removed from
 * every key of theirs at once. A key whose owner is disabled or gone is refused.
 */
import { AuthError, insufficientScope, invalidRequest } from "../app/errors/codes";
import type { RequestContext } from "../app/request-context";
import type { Grants } from "../authz/role-store";
import type { UserService } from "../identity/users";
import { sha256Hex } from "../lib/crypto/digest";
import { hex } from "../lib/crypto/encoding";
import { randomBytes, randomToken } from "../lib/crypto/random";
import { timingSafeEqualStrings } from "../lib/crypto/timing-safe";
import type { Mailer } from "../mail/mailer";
import { apiKeyCreatedMail } from "../mail/templates";
import { grantWithin } from "../verify/policy";
import type { ApiKeyRow, ApiKeyStore } from "./api-key-store";
import type { NonceClaimsStore } from "./nonce-claims-store";
import { checkSignature, type SignedRequestParts, signingSecretFor } from "./request-signing";

const PREFIX = "elk_";
const KEY_SHAPE = /^elk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const KEY_ID_SHAPE = /^[0-9a-f]{16}$/;
const LAST_USED_INTERVAL_MS = 60_000;

export interface ApiKeyView {
  id: string;
  prefix: string;
  name: string;
  scopes: string[];
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  signing: boolean;
}

/** Who a presented key (or a request signed with one) acts for. */
export interface KeyIdentity {
  userId: string;
  keyId: string;
  scopes: string[];
}

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
    expires_at: iso(row.expires_at),
    signing: row.signing === 1,
  };
}

export interface ApiKeyServiceOptions {
  store: ApiKeyStore;
  users: UserService;
  nonces: NonceClaimsStore;
  mailer: Mailer;
  publicUrl: string;
  /** Master secret that signing secrets derive from; null: request signing is off. */
  signingMaster: string | null;
  /** A key without `expires_at` lives `defaultTtlMs`; none lives longer than `maxTtlMs`. */
  lifetime: { defaultTtlMs: number; maxTtlMs: number };
}

export class ApiKeyService {
  readonly #o: ApiKeyServiceOptions;

  constructor(options: ApiKeyServiceOptions) {
    this.#o = options;
  }

  /** Who the presented `elk_…` string acts for, or null for an unknown, expired or revoked key. */
  async authenticate(presented: string, ctx: RequestContext): Promise<KeyIdentity | null> {
    const match = KEY_SHAPE.exec(presented);
    if (!match?.[1] || !match[2]) return null;
    const row = await this.#o.store.find(match[1]);
    // Hash compared in constant time even when the id is unknown, so timing says nothing about ids.
    const presentedHash = await sha256Hex(match[2]);
    const matches = timingSafeEqualStrings(presentedHash, row?.secret_hash ?? "0".repeat(64));
    if (!row || !matches || !isLive(row, ctx.now)) return null;
    return this.#identity(row, ctx);
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
  ): Promise<{ key: KeyIdentity } | { reason: string }> {
    const { now } = ctx;
    if (!this.#o.signingMaster) return { reason: "request signing is not configured" };
    const row = KEY_ID_SHAPE.test(keyId) ? await this.#o.store.find(keyId) : null;
    if (row?.signing !== 1 || !isLive(row, now)) return { reason: "unknown, revoked or expired signing key" };
    const check = await checkSignature(await signingSecretFor(this.#o.signingMaster, keyId), parts, signature, now);
    if (!check.ok) return { reason: check.reason };
    if (!(await this.#o.nonces.claim(keyId, parts.nonce, check.expiresAt, now))) return { reason: "replayed nonce" };
    const key = await this.#identity(row, ctx);
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
      expires_at: this.#expiry(request.expiresAt, now),
      revoked_at: null,
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

  /** Revokes one of the user's keys; 404 for someone else's or an unknown one. */
  async revoke(id: string, userId: string, now: number): Promise<void> {
    if (!(await this.#o.store.revoke(id, userId, now))) throw new AuthError("not_found", "no such API key");
  }

  /** Every key of the user dies (disabling the account, a password reset, logout-all with keys); returns how many. */
  revokeAll(userId: string, now: number): Promise<number> {
    return this.#o.store.revokeAllFor(userId, now);
  }

  /** The key's identity if its owner is still enabled; its last use is recorded after the response. */
  async #identity(row: ApiKeyRow, ctx: RequestContext): Promise<KeyIdentity | null> {
    const owner = await this.#o.users.findById(row.user_id);
    if (!owner || owner.disabled_at !== null) return null;
    if (row.last_used_at === null || ctx.now - row.last_used_at >= LAST_USED_INTERVAL_MS) {
      ctx.defer(this.#o.store.markUsed(row.id, ctx.now), "api_key_mark_used", { key_id: row.id });
    }
    return { userId: owner.id, keyId: row.id, scopes: JSON.parse(row.scopes) as string[] };
  }
}

function isLive(row: ApiKeyRow, now: number): boolean {
  return row.revoked_at === null && (row.expires_at === null || row.expires_at > now);
}
