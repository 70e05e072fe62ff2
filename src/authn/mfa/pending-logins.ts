/**
 * @module authn/mfa/pending-logins
 * `PendingLogins`: a login whose password was right and which now waits for
 * its second factor. The client holds an `mfa_token` (a one-time secret: 256
 * bits, SHA-256 at rest, 5 minutes, spent once) bound to the attempt: the
 * user, how the first factor went, the session kind and remember-me asked
 * for, and the device (its User-Agent). At most 5 wrong codes, then it dies.
 */
import { invalidGrant } from "../../app/errors/codes";
import { sha256Hex } from "../../lib/crypto/digest";
import type { OneTimeSecrets } from "../../one-time-secrets/one-time-secrets";
import type { AuthenticationResult } from "../types";

export const MFA_TOKEN_TTL_MS = 5 * 60_000;
export const MFA_MAX_ATTEMPTS = 5;

export interface LoginBinding {
  mode: "token" | "cookie";
  rememberMe: boolean;
  userAgent: string | null;
}

export interface PendingLogin {
  userId: string;
  amr: string[];
  mode: "token" | "cookie";
  rememberMe: boolean;
}

interface Payload {
  user_id: string;
  amr: string[];
  mode: "token" | "cookie";
  remember_me: boolean;
  device: string;
}

const MFA_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export class PendingLogins {
  readonly #secrets: OneTimeSecrets;

  constructor(options: { secrets: OneTimeSecrets }) {
    this.#secrets = options.secrets;
  }

  async begin(firstFactor: AuthenticationResult, binding: LoginBinding, now: number): Promise<string> {
    const payload: Payload = {
      user_id: firstFactor.user.id,
      amr: firstFactor.amr,
      mode: binding.mode,
      remember_me: binding.rememberMe,
      device: await deviceOf(binding.userAgent),
    };
    return this.#secrets.issue({
      purpose: "mfa_login",
      userId: firstFactor.user.id,
      payload: payload as unknown as Record<string, unknown>,
      ttlMs: MFA_TOKEN_TTL_MS,
      now,
    });
  }

  /** The live pending login of `token` for this device; invalid_grant otherwise. */
  async find(token: string, userAgent: string | null, now: number): Promise<PendingLogin> {
    const found = MFA_TOKEN_SHAPE.test(token) ? await this.#secrets.peek(token, "mfa_login", now) : null;
    const payload = found?.payload as Payload | undefined;
    if (!payload || payload.device !== (await deviceOf(userAgent))) {
      throw invalidGrant("the mfa_token is invalid, expired or used; log in again");
    }
    return { userId: payload.user_id, amr: payload.amr, mode: payload.mode, rememberMe: payload.remember_me };
  }

  /** Spends the token as the login completes; false when another request spent it first. */
  async complete(token: string, now: number): Promise<boolean> {
    return (await this.#secrets.spend(token, "mfa_login", now)) !== null;
  }

  /** Counts a wrong code; the fifth ends the pending login. */
  async countFailure(token: string, now: number): Promise<void> {
    await this.#secrets.countFailure(token, "mfa_login", MFA_MAX_ATTEMPTS, now);
  }
}

function deviceOf(userAgent: string | null): Promise<string> {
  return sha256Hex(`edgelock/device:${userAgent ?? ""}`);
}
