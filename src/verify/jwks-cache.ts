/**
 * @module verify/jwks-cache
 * A JWKS source for jwtVerify: a fixed JWK set, or a URL fetched once and cached
 * in isolate memory and in the Cache API for as long as the server's
 * Cache-Control max-age says (5 minutes when it says nothing usable).
 *
 * An unknown `kid` refetches at most once per 30 seconds per isolate, so forged
 * kids cannot turn every request into a fetch to the auth server (fetch storms).
 * Trusts the JWKS endpoint it is given (configure an https URL).
 */
import { createLocalJWKSet, errors, type FlattenedJWSInput, type JSONWebKeySet, type JWSHeaderParameters } from "jose";
import { VerifyError } from "./errors";

export const UNKNOWN_KID_COOLDOWN_MS = 30_000;
const DEFAULT_MAX_AGE_MS = 300_000;
const FETCHED_AT_HEADER = "X-Edgelock-Fetched-At";

type KeyResolver = ReturnType<typeof createLocalJWKSet>;

export interface JwksFetcher {
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
}

export interface JwksSource {
  resolve(header: JWSHeaderParameters, token: FlattenedJWSInput): ReturnType<KeyResolver>;
}

export function staticJwks(jwks: JSONWebKeySet): JwksSource {
  const resolver = createLocalJWKSet(jwks);
  return { resolve: (header, token) => resolver(header, token) };
}

interface Snapshot {
  resolver: KeyResolver;
  expiresAt: number;
}

export class RemoteJwks implements JwksSource {
  readonly #url: string;
  readonly #fetcher: JwksFetcher;
  readonly #clock: () => number;
  #snapshot: Snapshot | undefined;
  #inflight: Promise<Snapshot> | undefined;
  #lastForcedRefresh = Number.NEGATIVE_INFINITY;

  constructor(url: string, options: { fetcher?: JwksFetcher; clock?: () => number } = {}) {
    this.#url = url;
    this.#fetcher = options.fetcher ?? { fetch: (input, init) => fetch(input, init) };
    this.#clock = options.clock ?? Date.now;
  }

  async resolve(header: JWSHeaderParameters, token: FlattenedJWSInput) {
    const now = this.#clock();
    let snapshot = this.#snapshot && this.#snapshot.expiresAt > now ? this.#snapshot : await this.#load(false);
    try {
      return await snapshot.resolver(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || now - this.#lastForcedRefresh < UNKNOWN_KID_COOLDOWN_MS) {
        throw error;
      }
      // A kid we have not seen: perhaps a key was rotated in. Look once, then cool down.
      this.#lastForcedRefresh = now;
      snapshot = await this.#load(true);
      return snapshot.resolver(header, token);
    }
  }

  /** One fetch at a time per isolate; concurrent callers share it. */
  #load(bypassCache: boolean): Promise<Snapshot> {
    this.#inflight ??= this.#fetchSnapshot(bypassCache).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetchSnapshot(bypassCache: boolean): Promise<Snapshot> {
    const cache = typeof caches === "undefined" ? undefined : (caches as unknown as { default: Cache }).default;
    let response = bypassCache ? undefined : await cache?.match(this.#url).catch(() => undefined);
    if (!response) {
      try {
        response = await this.#fetcher.fetch(this.#url, { headers: { Accept: "application/json" } });
      } catch (cause) {
        throw new VerifyError("jwks_unavailable", "the JWKS could not be fetched", { cause });
      }
      if (!response.ok) throw new VerifyError("jwks_unavailable", `the JWKS endpoint answered ${response.status}`);
      // Stamped with when we fetched it, so a copy read back from the cache
      // expires when the original would have, not a full max-age later.
      response = new Response(response.body, response);
      response.headers.set(FETCHED_AT_HEADER, String(this.#clock()));
      // Shared with every isolate in this location, for as long as the server allows.
      await cache?.put(this.#url, response.clone()).catch(() => {});
    }
    let jwks: JSONWebKeySet;
    try {
      jwks = (await response.json()) as JSONWebKeySet;
    } catch (cause) {
      throw new VerifyError("jwks_unavailable", "the JWKS is not valid JSON", { cause });
    }
    const fetchedAt = Number(response.headers.get(FETCHED_AT_HEADER)) || this.#clock();
    const snapshot = { resolver: createLocalJWKSet(jwks), expiresAt: fetchedAt + maxAgeMs(response) };
    this.#snapshot = snapshot;
    return snapshot;
  }
}

function maxAgeMs(response: Response): number {
  const match = /(?:^|,)\s*max-age=(\d+)/i.exec(response.headers.get("Cache-Control") ?? "");
  return match?.[1] ? Number(match[1]) * 1000 : DEFAULT_MAX_AGE_MS;
}
