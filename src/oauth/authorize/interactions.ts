/**
 * @module oauth/authorize/interactions
 * `Interactions`: an authorization request waiting for the user (to log in,
 * to consent), kept as a one-time secret for 10 minutes. Its id is the
 * secret: 256 bits, only a SHA-256 stored. It is read as often as the pages
 * need and spent exactly once, when the request ends in a code or a refusal.
 */
import type { OneTimeSecrets } from "../../one-time-secrets/one-time-secrets";
import type { AuthorizationRequest } from "./authorization-request";

export const INTERACTION_TTL_MS = 10 * 60_000;

export interface Interaction {
  id: string;
  request: AuthorizationRequest;
  /** Epoch ms it began: a login after this is a fresh one (prompt=login, max_age). */
  createdAt: number;
}

export class Interactions {
  readonly #secrets: OneTimeSecrets;

  constructor(options: { secrets: OneTimeSecrets }) {
    this.#secrets = options.secrets;
  }

  async begin(request: AuthorizationRequest, now: number): Promise<Interaction> {
    const payload = { request, created_at: now } as unknown as Record<string, unknown>;
    const id = await this.#secrets.issue({
      purpose: "oauth_interaction",
      userId: null,
      payload,
      ttlMs: INTERACTION_TTL_MS,
      now,
    });
    return { id, request, createdAt: now };
  }

  async find(id: string, now: number): Promise<Interaction | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    const found = await this.#secrets.peek(id, "oauth_interaction", now);
    return found?.payload ? toInteraction(id, found.payload) : null;
  }

  /** Ends the interaction; false when it was already ended (a second submit, another tab). */
  async end(id: string, now: number): Promise<boolean> {
    return (await this.#secrets.spend(id, "oauth_interaction", now)) !== null;
  }
}

function toInteraction(id: string, payload: Record<string, unknown>): Interaction {
  return { id, request: payload.request as AuthorizationRequest, createdAt: payload.created_at as number };
}
