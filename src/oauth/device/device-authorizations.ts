/**
 * @module oauth/device/device-authorizations
 * `DeviceAuthorizations`: the device authorization grant's requests (RFC
 * 8628). A client asks for a device code and a user code (§3.1–3.2); the user
 * enters the user code on /device and approves or denies; the client polls
 * the token endpoint with the device code (§3.4–3.5). The device code is 256
 * random bits, kept only as SHA-256; the whole request lives 10 minutes.
 * Polling faster than the interval is `slow_down`, and the interval grows by
 * 5 seconds for that poll and every later one; an approved code is redeemed
 * by exactly one poll.
 */
import { AuthError } from "../../app/errors/codes";
import type { OAuthParams } from "../../app/form-body";
import { sha256Hex } from "../../lib/crypto/digest";
import { randomId, randomToken } from "../../lib/crypto/random";
import { DEVICE_CODE_GRANT } from "../clients/client-metadata";
import type { ClientRecord } from "../clients/client-store";
import { requestedAudiences } from "../resources";
import { parseScope, withinScopes } from "../scopes";
import type {
  DeviceAuthorizationStore,
  DeviceDecision,
  PendingDeviceAuthorization,
  PollRow,
} from "./device-authorization-store";
import { formatUserCode, newUserCode, normalizeUserCode } from "./user-codes";

export const DEVICE_CODE_TTL_MS = 10 * 60_000;
/** §3.2: the minimum seconds between polls, when the request starts. */
export const POLL_INTERVAL_SECONDS = 5;
/** §3.5: what each slow_down adds to the interval. */
export const SLOW_DOWN_STEP_SECONDS = 5;
/** Device codes are 43 characters; anything much longer is not one, and is not hashed. */
const MAX_DEVICE_CODE_LENGTH = 128;
/** New user codes drawn before giving up (a collision among live codes is a 1 in ~10^6 event per try). */
const USER_CODE_TRIES = 5;

/** §3.2: the device authorization response. */
export interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

export interface DeviceAuthorizationsOptions {
  store: DeviceAuthorizationStore;
  /** Where /device is served (PUBLIC_URL). */
  publicUrl: string;
}

export type { PendingDeviceAuthorization };

export type PollOutcome = PollRow | { result: "unknown" };

export class DeviceAuthorizations {
  readonly #o: DeviceAuthorizationsOptions;

  constructor(options: DeviceAuthorizationsOptions) {
    this.#o = options;
  }

  /** §3.1: a new request for the authenticated `client`, which must be registered for the grant. */
  async begin(client: ClientRecord, params: OAuthParams, now: number): Promise<DeviceAuthorizationResponse> {
    if (!client.grantTypes.includes(DEVICE_CODE_GRANT)) {
      throw new AuthError("unauthorized_client", `the client is not registered for ${DEVICE_CODE_GRANT}`);
    }
    const scopes = parseScope(params.get("scope"));
    if (!withinScopes(scopes, client.scopes)) {
      throw new AuthError("invalid_scope", "the client is not registered for every requested scope");
    }
    const audiences = requestedAudiences(params.resources, client.audiences);
    const deviceCode = randomToken(32);
    const deviceCodeHash = await sha256Hex(deviceCode);
    const expiresAt = now + DEVICE_CODE_TTL_MS;
    for (let attempt = 0; attempt < USER_CODE_TRIES; attempt++) {
      const userCode = newUserCode();
      const row = { id: randomId(), deviceCodeHash, userCode, clientId: client.id, scopes, audiences };
      if (await this.#o.store.insert({ ...row, intervalSeconds: POLL_INTERVAL_SECONDS, expiresAt, now })) {
        const shown = formatUserCode(userCode);
        const verificationUri = `${this.#o.publicUrl}/device`;
        return {
          device_code: deviceCode,
          user_code: shown,
          verification_uri: verificationUri,
          verification_uri_complete: `${verificationUri}?user_code=${shown}`,
          expires_in: DEVICE_CODE_TTL_MS / 1000,
          interval: POLL_INTERVAL_SECONDS,
        };
      }
    }
    throw new AuthError("temporarily_unavailable", "no free user code was found; try again");
  }

  /** The pending request a typed user code names; null for a malformed, unknown, answered or expired code alike. */
  async findByUserCode(input: string, now: number): Promise<PendingDeviceAuthorization | null> {
    const userCode = normalizeUserCode(input);
    return userCode === null ? null : this.#o.store.findPendingByUserCode(userCode, now);
  }

  /** The request an interaction names, if it still waits for an answer. */
  findPending(id: string, now: number): Promise<PendingDeviceAuthorization | null> {
    return this.#o.store.findPending(id, now);
  }

  /** Records the user's answer; false when it came too late (answered already, or expired). */
  decide(id: string, decision: DeviceDecision, now: number): Promise<boolean> {
    return this.#o.store.decide(id, decision, now);
  }

  /** One poll by `clientId` (§3.4): what to answer, with the poll recorded. */
  async poll(deviceCode: string, clientId: string, now: number): Promise<PollOutcome> {
    if (deviceCode.length > MAX_DEVICE_CODE_LENGTH) return { result: "unknown" };
    const polled = await this.#o.store.poll(await sha256Hex(deviceCode), clientId, now, SLOW_DOWN_STEP_SECONDS);
    return polled ?? { result: "unknown" };
  }
}
