/**
 * @module authn/methods/passkey
 * A passkey (WebAuthn assertion) as a login method. The challenge was spent
 * and the credential found (by the id the authenticator sent) before the
 * flow; this method checks the signature, the origin, the relying party id,
 * user presence and user verification (required: the passkey is the only
 * factor), the user handle, and the signature counter:
 *  - a counter that does not move forward (when either side counts) refuses
 *    the login and is audited: the credential may have been cloned;
 *  - the counter moves by one guarded UPDATE, so two uses of one assertion
 *    cannot both pass.
 * A user-verified passkey is multi-factor (something you have, unlocked by
 * something you know or are): amr ["hwk", "user", "mfa"], or "swk" for a
 * synced (backed-up) passkey; the flow then asks for no second factor.
 */
import { type AuthenticationResponseJSON, verifyAuthenticationResponse } from "@simplewebauthn/server";
import type { RequestContext } from "../../app/request-context";
import type { UserRecord } from "../../identity/user-store";
import { fromBase64url } from "../../lib/crypto/encoding";
import { logEvent } from "../../lib/log";
import { type Settled, settled, unwrap } from "../../lib/settled";
import type { PasskeyRecord, PasskeyStore } from "../passkeys/passkey-store";
import type { LoginMethod, MethodOutcome } from "../types";

export interface PasskeyAssertion {
  passkey: PasskeyRecord;
  user: UserRecord;
  response: AuthenticationResponseJSON;
  /** The challenge the options carried (already spent). */
  challenge: string;
}

export interface RelyingParty {
  rpId: string;
  rpName: string;
  origins: string[];
}

export interface PasskeyMethodOptions {
  store: PasskeyStore;
  rp: RelyingParty;
}

/** The amr of a user-verified passkey login: a synced passkey is a software key, a device-bound one hardware. */
export function passkeyAmr(backedUp: boolean): string[] {
  return [backedUp ? "swk" : "hwk", "user", "mfa"];
}

export class PasskeyMethod implements LoginMethod<PasskeyAssertion, UserRecord> {
  readonly #o: PasskeyMethodOptions;

  constructor(options: PasskeyMethodOptions) {
    this.#o = options;
  }

  prepare(input: PasskeyAssertion): Promise<Settled<UserRecord>> {
    return settled(Promise.resolve(input.user));
  }

  async authenticate(
    input: PasskeyAssertion,
    prepared: Promise<Settled<UserRecord>>,
    ctx: RequestContext,
  ): Promise<MethodOutcome> {
    const user = unwrap(await prepared);
    const { passkey, response, challenge } = input;
    const publicKey = fromBase64url(passkey.public_key);
    if (!publicKey) return { ok: false, reason: "passkey_unreadable", userId: user.id };
    let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
    try {
      verified = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: this.#o.rp.origins,
        expectedRPID: this.#o.rp.rpId,
        // The counter is compared below (to audit a regression), not by the library.
        credential: { id: passkey.credential_id, publicKey, counter: 0 },
        requireUserVerification: true,
      });
    } catch (error) {
      logEvent("warn", "passkey_assertion_rejected", { user_id: user.id, error: String(error) });
      return { ok: false, reason: "passkey_rejected", userId: user.id };
    }
    if (!verified.verified || !verified.authenticationInfo.userVerified) {
      return { ok: false, reason: "passkey_rejected", userId: user.id };
    }
    if (response.response.userHandle !== undefined && !handleNames(response.response.userHandle, user.id)) {
      return { ok: false, reason: "passkey_user_handle_mismatch", userId: user.id };
    }
    if (user.disabled_at !== null) return { ok: false, reason: "disabled_account", userId: user.id };
    const { newCounter, credentialBackedUp } = verified.authenticationInfo;
    const stored = passkey.counter;
    const regressed = (newCounter > 0 || stored > 0) && newCounter <= stored;
    if (regressed || !(await this.#o.store.recordUse(passkey.id, stored, newCounter, credentialBackedUp, ctx.now))) {
      const details = { passkey_id: passkey.id, stored_counter: stored, presented_counter: newCounter };
      ctx.audit.record("passkey_counter_regressed", user.id, details, ctx.now);
      return { ok: false, reason: "passkey_counter_regressed", userId: user.id };
    }
    return { ok: true, result: { user, amr: passkeyAmr(credentialBackedUp), authTime: ctx.now } };
  }
}

/** Whether the assertion's user handle (base64url) is the user's id, as registration set it. */
function handleNames(userHandle: string, userId: string): boolean {
  const bytes = fromBase64url(userHandle);
  return bytes !== null && new TextDecoder().decode(bytes) === userId;
}
