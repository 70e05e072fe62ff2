/**
 * @module services/api-keys
 * API keys for programs acting as a user: `elk_<id>_<secret>` (a recognizable
 * prefix, so secret scanners can find leaked keys), shown once, stored as
 * SHA-256 of the secret. A key carries scopes, a subset of its creator's
 * permissions; using it, a request may do what both the scopes and the user's
 * current permissions allow — so a role removed from the user is removed from
 * every key of theirs at once.
 */

import { AuthError, invalidRequest } from "../app/errors/codes";
import type { Grants } from "../authz/role-store";
import { sha256Hex } from "../lib/crypto/digest";
import { hex } from "../lib/crypto/encoding";
import { randomBytes, randomToken } from "../lib/crypto/random";
import { timingSafeEqualStrings } from "../lib/crypto/timing-safe";
import { grantWithin } from "../verify/policy";
import type { ApiKeyRow, ApiKeyStore } from "./api-key-store";
import type { NonceStore } from "./nonce-object";
import { checkSignature, type SignedRequestParts, signingSecretFor } from "./request-signing";

const PREFIX = "elk_";
const KEY_SHAPE = /^elk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
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

export interface AuthenticatedKey {
  row: ApiKeyRow;
  scopes: string[];
  /** True when last_used_at is due for an update (do it off the response path). */
  markUsedDue: boolean;
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

export class ApiKeyService {
  readonly #store: ApiKeyStore;
  readonly #signingMaster: string | null;
  readonly #nonces: DurableObjectNamespace<NonceStore>;

  constructor(
    store: ApiKeyStore,
    signing: { masterSecret: string | null; nonces: DurableObjectNamespace<NonceStore> },
  ) {
    this.#store = store;
    this.#signingMaster = signing.masterSecret;
    this.#nonces = signing.nonces;
  }

  /**
   * The live signing key behind a signed request, or null (with the reason, for
   * the audit log). Claims the nonce only after the signature checks out, so a
   * forger cannot burn someone else's nonces.
   */
  async authenticateSigned(
    keyId: string,
    parts: SignedRequestParts,
    signature: string,
    now: number,
  ): Promise<{ key: AuthenticatedKey } | { reason: string }> {
    if (!this.#signingMaster) return { reason: "request signing is not configured" };
    const row = /^[0-9a-f]{16}$/.test(keyId) ? await this.#store.find(keyId) : null;
    if (row?.signing !== 1 || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) {
      return { reason: "unknown, revoked or expired signing key" };
    }
    const check = await checkSignature(await signingSecretFor(this.#signingMaster, keyId), parts, signature, now);
    if (!check.ok) return { reason: check.reason };
    let fresh: boolean;
    try {
      fresh = await this.#nonces
        .get(this.#nonces.idFromName(`nonce:${keyId}`))
        .claim(parts.nonce, check.expiresAt, now);
    } catch (error) {
      // Cannot tell a replay from a first use: refuse (fail closed).
      throw new AuthError(503, "temporarily_unavailable", "signed requests cannot be checked right now", {
        cause: error,
      });
    }
    if (!fresh) return { reason: "replayed nonce" };
    return {
      key: {
        row,
        scopes: JSON.parse(row.scopes) as string[],
        markUsedDue: row.last_used_at === null || now - row.last_used_at >= LAST_USED_INTERVAL_MS,
      },
    };
  }

  async create(
    userId: string,
    grants: Grants,
    request: { name: string; scopes: string[]; expiresAt: number | null; signing: boolean },
    now: number,
  ): Promise<{ key: string; signingSecret: string | null; view: ApiKeyView }> {
    if (request.signing && !this.#signingMaster) throw invalidRequest("signing: request signing is not configured");
    const outside = request.scopes.filter((scope) => !grantWithin(scope, grants.permissions, userId));
    if (outside.length > 0) {
      // Least privilege: a key can never do more than its creator.
      throw new AuthError(403, "insufficient_scope", `you do not hold these permissions: ${outside.join(", ")}`);
    }
    if (request.expiresAt !== null && request.expiresAt <= now)
      throw invalidRequest("expires_at: must be in the future");
    const id = hex(randomBytes(8));
    const secret = randomToken(32);
    const row: ApiKeyRow = {
      id,
      user_id: userId,
      name: request.name,
      scopes: JSON.stringify([...new Set(request.scopes)].sort()),
      secret_hash: await sha256Hex(secret),
      signing: request.signing ? 1 : 0,
      created_at: now,
      last_used_at: null,
      expires_at: request.expiresAt,
      revoked_at: null,
    };
    await this.#store.insert(row);
    const signingSecret =
      request.signing && this.#signingMaster ? await signingSecretFor(this.#signingMaster, id) : null;
    return { key: `${PREFIX}${id}_${secret}`, signingSecret, view: apiKeyView(row) };
  }

  /** The live key behind a presented `elk_…` string, or null. */
  async authenticate(presented: string, now: number): Promise<AuthenticatedKey | null> {
    const match = KEY_SHAPE.exec(presented);
    if (!match?.[1] || !match[2]) return null;
    const row = await this.#store.find(match[1]);
    // Hash compared in constant time even when the id is unknown, so timing says nothing about ids.
    const presentedHash = await sha256Hex(match[2]);
    const matches = timingSafeEqualStrings(presentedHash, row?.secret_hash ?? "0".repeat(64));
    if (!row || !matches || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) return null;
    return {
      row,
      scopes: JSON.parse(row.scopes) as string[],
      markUsedDue: row.last_used_at === null || now - row.last_used_at >= LAST_USED_INTERVAL_MS,
    };
  }

  markUsed(id: string, now: number): Promise<void> {
    return this.#store.markUsed(id, now);
  }

  list(userId: string): Promise<ApiKeyView[]> {
    return this.#store.listForUser(userId).then((rows) => rows.map(apiKeyView));
  }

  revoke(id: string, userId: string, now: number): Promise<boolean> {
    return this.#store.revoke(id, userId, now);
  }
}
