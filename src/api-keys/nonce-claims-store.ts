/**
 * @module api-keys/nonce-claims-store
 * The Worker's side of the NonceStore Durable Object: one object per signing
 * key, so each signature's nonce is claimed exactly once. If the object cannot
 * be reached, Unavailable: a replay cannot be told from a first use, so fail closed.
 */
import { Unavailable } from "../app/errors/codes";
import type { NonceStore } from "./nonce-object";

export class NonceClaimsStore {
  readonly #namespace: DurableObjectNamespace<NonceStore>;

  constructor(namespace: DurableObjectNamespace<NonceStore>) {
    this.#namespace = namespace;
  }

  /** True the first time `nonce` is claimed for `keyId`; false for a replay. */
  async claim(keyId: string, nonce: string, expiresAt: number, now: number): Promise<boolean> {
    try {
      return await this.#namespace.get(this.#namespace.idFromName(`nonce:${keyId}`)).claim(nonce, expiresAt, now);
    } catch (error) {
      throw new Unavailable("signed requests cannot be checked right now", error);
    }
  }
}
