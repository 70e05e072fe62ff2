/**
 * @module verify/jwks-cache
 * A JWKS source for jwtVerify: a fixed JWK set, or a URL fetched and cached in
 * isolate memory and in a Cache API cache of its own ("edgelock-jwks"), for the
 * server's Cache-Control max-age clamped to 30 s … 1 h (5 minutes when absent).
 *
 * - A key set is parsed and validated before it is cached: a broken answer is
 *   never stored, and is reported as jwks_unavailable, not as a bad token.
 * - An unknown `kid` forces a network refetch at most once per 30 seconds per
 *   isolate, so forged kids cannot turn requests into fetches (fetch storms).
 *   Requests that arrive while that refetch runs wait for it.
 * - If a refetch fails, the last good key set keeps serving for up to an hour
 *   past its expiry, and the next attempt waits 10 s: an auth-server outage
 *   does not take every API down with it, nor get hammered by it.
 * Trusts the JWKS endpoint it is given (configure an https URL or a service binding).
 */
import {
  type CryptoKey,
  createLocalJWKSet,
  errors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
} from "jose";
import { VerifyError } from "./errors.js";

export const UNKNOWN_KID_COOLDOWN_MS = 30_000;
export const JWKS_FETCH_TIMEOUT_MS = 5_000;
export const JWKS_MIN_MAX_AGE_MS = 30_000;
export const JWKS_MAX_MAX_AGE_MS = 3_600_000;
const DEFAULT_MAX_AGE_MS = 300_000;
const STALE_IF_ERROR_MS = 3_600_000;
const RETRY_AFTER_FAILURE_MS = 10_000;
const CACHE_NAME = "edgelock-jwks";
const FETCHED_AT_HEADER = "X-Edgelock-Fetched-At";

type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

export interface JwksFetcher {
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
}

export interface JwksSource {
  resolve(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey>;
}

export function staticJwks(jwks: JSONWebKeySet): JwksSource {
  const resolver = createLocalJWKSet(jwks);
  return { resolve: (header, token) => resolver(header, token) };
}

interface Snapshot {
  resolver: KeyResolver;
  fetchedAt: number;
  expiresAt: number;
}

export interface RemoteJwksOptions {
  fetcher?: JwksFetcher | undefined;
  /** How long one JWKS fetch may take (default 5 s). */
  fetchTimeoutMs?: number | undefined;
  /** Epoch ms; for tests. */
  clock?: (() => number) | undefined;
}

export class RemoteJwks implements JwksSource {
  readonly #url: string;
  readonly #fetcher: JwksFetcher;
  readonly #clock: () => number;
  readonly #fetchTimeoutMs: number;
  #snapshot: Snapshot | undefined;
  #loading: Promise<Snapshot> | undefined;
  #lastForcedRefresh = Number.NEGATIVE_INFINITY;
  #lastFailure = Number.NEGATIVE_INFINITY;

  constructor(url: string, options: RemoteJwksOptions = {}) {
    this.#url = url;
    this.#fetcher = options.fetcher ?? { fetch: (input, init) => fetch(input, init) };
    this.#clock = options.clock ?? Date.now;
    this.#fetchTimeoutMs = options.fetchTimeoutMs ?? JWKS_FETCH_TIMEOUT_MS;
  }

  async resolve(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    const snapshot = await this.#current();
    try {
      return await snapshot.resolver(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      // A kid we do not know: perhaps a key was rotated in. If someone already
      // refreshed (or is refreshing), use that; else refresh once per cooldown.
      if (this.#loading) return (await this.#loading).resolver(header, token);
      if (this.#snapshot && this.#snapshot !== snapshot) return this.#snapshot.resolver(header, token);
      const now = this.#clock();
      if (now - this.#lastForcedRefresh < UNKNOWN_KID_COOLDOWN_MS) throw error;
      this.#lastForcedRefresh = now;
      return (await this.#load({ network: true })).resolver(header, token);
    }
  }

  async #current(): Promise<Snapshot> {
    const now = this.#clock();
    const snapshot = this.#snapshot;
    if (snapshot && snapshot.expiresAt > now) return snapshot;
    // Expired (or none): refresh, unless a refresh just failed and we can serve stale.
    const stale = snapshot && now - snapshot.expiresAt < STALE_IF_ERROR_MS ? snapshot : undefined;
    if (stale && now - this.#lastFailure < RETRY_AFTER_FAILURE_MS) return stale;
    try {
      return await this.#load({ network: false });
    } catch (error) {
      if (stale) return stale;
      throw error;
    }
  }

  /** One load at a time per isolate; concurrent callers share it. */
  #load(options: { network: boolean }): Promise<Snapshot> {
    this.#loading ??= this.#fetchSnapshot(options.network)
      .then((snapshot) => {
        this.#snapshot = snapshot;
        return snapshot;
      })
      .catch((error: unknown) => {
        this.#lastFailure = this.#clock();
        throw error;
      })
      .finally(() => {
        this.#loading = undefined;
      });
    return this.#loading;
  }

  async #fetchSnapshot(networkOnly: boolean): Promise<Snapshot> {
    const cache = await openCache();
    const now = this.#clock();
    if (!networkOnly) {
      // A cache that fails or holds junk is a miss: the network answers instead.
      const cached = await cache?.match(this.#url).catch(reportCacheFailure("match"));
      const snapshot = cached ? await parseSnapshot(cached).catch(reportCacheFailure("parse")) : undefined;
      if (snapshot && snapshot.expiresAt > now) return snapshot;
    }
    let response: Response;
    try {
      response = await this.#fetcher.fetch(this.#url, {
        headers: { Accept: "application/json" },
        // A hung JWKS endpoint must not hold requests open: give up and serve stale, or 503.
        signal: AbortSignal.timeout(this.#fetchTimeoutMs),
      });
    } catch (cause) {
      throw new VerifyError("jwks_unavailable", "the signing keys could not be fetched", { cause });
    }
    if (!response.ok) throw new VerifyError("jwks_unavailable", "the signing keys could not be fetched");
    const body = await response.text();
    const maxAge = clampedMaxAge(response.headers.get("Cache-Control"));
    // Validate before caching: a broken answer must never be stored.
    const snapshot = await parseSnapshot(
      new Response(body, {
        headers: { [FETCHED_AT_HEADER]: String(now), "Cache-Control": `max-age=${maxAge / 1000}` },
      }),
    );
    // Stored with only our own max-age: the copy must not outlive the server's
    // (clamped) max-age through s-maxage, Expires or an edge default TTL.
    const copy = new Response(body, {
      headers: {
        "Content-Type": "application/json",
        "Cache-Control": `max-age=${maxAge / 1000}`,
        [FETCHED_AT_HEADER]: String(now),
      },
    });
    // Not caching costs a refetch in the next isolate, nothing more.
    await cache?.put(this.#url, copy).catch(reportCacheFailure("put"));
    return snapshot;
  }
}

async function openCache(): Promise<Cache | undefined> {
  if (typeof caches === "undefined") return undefined;
  return caches.open(CACHE_NAME).catch(reportCacheFailure("open"));
}

/** Logs a Cache API failure as one JSON line (warn) and stands in `undefined` for its result. */
function reportCacheFailure(operation: string): (error: unknown) => undefined {
  return (error) => {
    console.warn(JSON.stringify({ level: "warn", event: "jwks_cache_failed", operation, error: String(error) }));
    return undefined;
  };
}

/** A response (fresh or cached) as a validated snapshot; throws jwks_unavailable when it is not a usable key set. */
async function parseSnapshot(response: Response): Promise<Snapshot> {
  const fetchedAt = Number(response.headers.get(FETCHED_AT_HEADER));
  if (!Number.isFinite(fetchedAt) || fetchedAt <= 0) {
    throw new VerifyError("jwks_unavailable", "the cached signing keys carry no fetch time");
  }
  try {
    const jwks = (await response.json()) as JSONWebKeySet;
    const resolver = createLocalJWKSet(jwks);
    return { resolver, fetchedAt, expiresAt: fetchedAt + clampedMaxAge(response.headers.get("Cache-Control")) };
  } catch (cause) {
    throw new VerifyError("jwks_unavailable", "the signing keys are not a valid JWK set", { cause });
  }
}

/** The server's max-age in ms, clamped to 30 s … 1 h; 5 minutes when absent. */
export function clampedMaxAge(cacheControl: string | null): number {
  const match = /(?:^|,)\s*max-age=(\d+)/i.exec(cacheControl ?? "");
  const ms = match?.[1] ? Number(match[1]) * 1000 : DEFAULT_MAX_AGE_MS;
  return Math.min(Math.max(ms, JWKS_MIN_MAX_AGE_MS), JWKS_MAX_MAX_AGE_MS);
}
