/**
 * @module oauth/authorize/interactions
 * `Interactions`: a request waiting for the user (to log in, to consent, to
 * confirm a device), kept as a one-time secret for 10 minutes. Its id is the
 * secret: 256 bits, only a SHA-256 stored. It is read as often as the pages
 * need and spent exactly once, when the request ends in a code, an approval
 * or a refusal. Two kinds share the hosted login pages: an authorization
 * request, and a device authorization (RFC 8628) whose user code was entered.
 */
import type { OneTimeSecrets } from "../../one-time-secrets/one-time-secrets";
import type { AuthorizationRequest } from "./authorization-request";

export const INTERACTION_TTL_MS = 10 * 60_000;

export interface Interaction {
  kind: "authorize";
  id: string;
  request: AuthorizationRequest;
  /** Epoch ms it began: a login after this is a fresh one (prompt=login, max_age). */
  createdAt: number;
}

/** A device authorization whose user code was entered on /device, waiting for login and confirmation. */
export interface DeviceInteraction {
  kind: "device";
  id: string;
  /** The device_authorizations row (its id, not the user code). */
  deviceAuthorizationId: string;
  clientId: string;
  createdAt: number;
}

export type AnyInteraction = Interaction | DeviceInteraction;

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
    return { kind: "authorize", id, request, createdAt: now };
  }

  /** A device interaction; it ends no later than the device authorization it is for (`ttlMs`). */
  async beginDevice(
    device: { deviceAuthorizationId: string; clientId: string },
    now: number,
    ttlMs: number,
  ): Promise<DeviceInteraction> {
    const payload = { device, created_at: now };
    const ttl = Math.min(ttlMs, INTERACTION_TTL_MS);
    const id = await this.#secrets.issue({ purpose: "oauth_interaction", userId: null, payload, ttlMs: ttl, now });
    return { kind: "device", id, ...device, createdAt: now };
  }

  async find(id: string, now: number): Promise<AnyInteraction | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    const found = await this.#secrets.peek(id, "oauth_interaction", now);
    return found?.payload ? toInteraction(id, found.payload) : null;
  }

  /** Ends the interaction; false when it was already ended (a second submit, another tab). */
  async end(id: string, now: number): Promise<boolean> {
    return (await this.#secrets.spend(id, "oauth_interaction", now)) !== null;
  }
}

function toInteraction(id: string, payload: Record<string, unknown>): AnyInteraction {
  const createdAt = payload.created_at as number;
  if (payload.device) {
    const device = payload.device as { deviceAuthorizationId: string; clientId: string };
    return { kind: "device", id, ...device, createdAt };
  }
  return { kind: "authorize", id, request: payload.request as AuthorizationRequest, createdAt };
}
