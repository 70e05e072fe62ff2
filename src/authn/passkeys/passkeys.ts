/**
 * @module authn/passkeys/passkeys
 * Passkeys (WebAuthn, with @simplewebauthn/server): registering one for a
 * signed-in user, logging in with one (discoverable credentials: no account
 * is named), and listing, renaming and deleting a user's passkeys.
 *
 * Every ceremony's challenge is a one-time secret (256 bits, 5 minutes, one
 * purpose: "passkey_registration" or "passkey_login"): the challenge the
 * browser signs *is* the secret, so it is spent exactly once, before the
 * response is checked, whether or not the check then passes. A registration
 * challenge is bound to the user it was issued to.
 *
 * Relying party id and origins come from PUBLIC_URL (and PASSKEY_EXTRA_ORIGINS);
 * attestation "none" (no authenticator make is checked or kept beyond its
 * AAGUID); resident keys and user verification are required.
 */
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import { AuthError, invalidGrant, invalidRequest, notFound } from "../../app/errors/codes";
import type { RequestContext } from "../../app/request-context";
import type { UserRecord } from "../../identity/user-store";
import type { UserService } from "../../identity/users";
import { base64url, fromBase64url, utf8Bytes } from "../../lib/crypto/encoding";
import { randomId } from "../../lib/crypto/random";
import { logEvent } from "../../lib/log";
import { type Settled, unwrap } from "../../lib/settled";
import type { OneTimeSecrets } from "../../one-time-secrets/one-time-secrets";
import type { LoginFlow } from "../login-flow";
import type { PasskeyMethod, RelyingParty } from "../methods/passkey";
import type { AuthenticationResult, SecondFactorRequired } from "../types";
import type { PasskeyRecord, PasskeyStore } from "./passkey-store";

/** How long a ceremony's challenge lives (and the timeout the browser is given). */
export const PASSKEY_CHALLENGE_TTL_MS = 5 * 60 * 1000;
/** Key types accepted (COSE): EdDSA, ES256, RS256. */
export const PASSKEY_ALGORITHMS = [-8, -7, -257];
/** Passkeys one account may hold. */
export const MAX_PASSKEYS_PER_USER = 20;

const DEAD_CHALLENGE = "the challenge is unknown, used or expired: ask for new options";
/** One answer for an unknown credential and a refused assertion. */
export const PASSKEY_NOT_ACCEPTED = "The passkey was not accepted.";

export interface PasskeyView {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
  /** "singleDevice" (bound to one authenticator) or "multiDevice" (synced). */
  device_type: string;
  backed_up: boolean;
  transports: string[];
  aaguid: string;
}

export interface PasskeysOptions {
  store: PasskeyStore;
  users: UserService;
  secrets: OneTimeSecrets;
  login: LoginFlow;
  method: PasskeyMethod;
  rp: RelyingParty;
}

export function passkeyView(record: PasskeyRecord): PasskeyView {
  return {
    id: record.id,
    name: record.name,
    created_at: new Date(record.created_at).toISOString(),
    last_used_at: record.last_used_at === null ? null : new Date(record.last_used_at).toISOString(),
    device_type: record.device_type,
    backed_up: record.backed_up === 1,
    transports: JSON.parse(record.transports) as string[],
    aaguid: record.aaguid,
  };
}

export class Passkeys {
  readonly #o: PasskeysOptions;

  constructor(options: PasskeysOptions) {
    this.#o = options;
  }

  /** Creation options for a new passkey of `user`, excluding the ones they have. */
  async registrationOptions(user: UserRecord, ctx: RequestContext): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.#o.store.listFor(user.id);
    if (existing.length >= MAX_PASSKEYS_PER_USER) {
      throw new AuthError("conflict", `an account holds at most ${MAX_PASSKEYS_PER_USER} passkeys; delete one first`);
    }
    const challenge = await this.#challenge("passkey_registration", user.id, ctx.now);
    const { rpId, rpName } = this.#o.rp;
    return generateRegistrationOptions({
      rpName,
      rpID: rpId,
      userName: user.email,
      userDisplayName: user.email,
      // The user handle: our id, so a login can check the credential's account.
      userID: utf8Bytes(user.id),
      challenge,
      timeout: PASSKEY_CHALLENGE_TTL_MS,
      attestationType: "none",
      supportedAlgorithmIDs: PASSKEY_ALGORITHMS,
      excludeCredentials: existing.map((passkey) => ({
        id: passkey.credential_id,
        transports: JSON.parse(passkey.transports) as string[],
      })),
      authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
    });
  }

  /** Checks a registration response against its challenge (spent here) and stores the passkey. */
  async register(
    user: UserRecord,
    response: RegistrationResponseJSON,
    name: string | undefined,
    ctx: RequestContext,
  ): Promise<PasskeyView> {
    const challenge = challengeOf(response.response.clientDataJSON);
    const spent = await this.#o.secrets.spend(challenge, "passkey_registration", ctx.now);
    if (!spent || spent.userId !== user.id) throw invalidGrant(DEAD_CHALLENGE);
    let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verified = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: this.#o.rp.origins,
        expectedRPID: this.#o.rp.rpId,
        requireUserPresence: true,
        requireUserVerification: true,
        supportedAlgorithmIDs: PASSKEY_ALGORITHMS,
      });
    } catch (error) {
      logEvent("warn", "passkey_registration_rejected", { user_id: user.id, error: String(error) });
      throw invalidRequest(`the passkey could not be verified: ${describe(error)}`);
    }
    if (!verified.verified) throw invalidRequest("the passkey could not be verified");
    const info = verified.registrationInfo;
    if (info.credential.id !== response.id) throw invalidRequest("response.id: is not the attested credential's id");
    const id = randomId();
    const inserted = await this.#o.store.insert({
      id,
      userId: user.id,
      credentialId: info.credential.id,
      publicKey: base64url(info.credential.publicKey),
      counter: info.credential.counter,
      transports: info.credential.transports ?? response.response.transports ?? [],
      aaguid: info.aaguid,
      backedUp: info.credentialBackedUp,
      deviceType: info.credentialDeviceType,
      name: name ?? "Passkey",
      now: ctx.now,
    });
    if (!inserted) throw new AuthError("conflict", "this passkey is registered already");
    const details = { passkey_id: id, device_type: info.credentialDeviceType, aaguid: info.aaguid };
    ctx.audit.record("passkey_registered", user.id, details, ctx.now);
    const record = (await this.#o.store.listFor(user.id)).find((passkey) => passkey.id === id);
    if (!record) throw notFound("no such passkey");
    return passkeyView(record);
  }

  /** Request options for a login with any discoverable passkey of this relying party. */
  async loginOptions(
    ctx: RequestContext,
  ): Promise<{ challenge_id: string; options: PublicKeyCredentialRequestOptionsJSON }> {
    const challenge = await this.#challenge("passkey_login", null, ctx.now);
    const options = await generateAuthenticationOptions({
      rpID: this.#o.rp.rpId,
      challenge,
      timeout: PASSKEY_CHALLENGE_TTL_MS,
      userVerification: "required",
    });
    return { challenge_id: options.challenge, options };
  }

  /**
   * Logs in with an assertion: spends the challenge (after the per-IP gate),
   * finds the credential, then runs the login flow with PasskeyMethod (the
   * account's budget and lock, disabled accounts, unverified email, the
   * audit row and the new-device notice, as for a password).
   */
  async login<T>(
    challengeId: string,
    response: AuthenticationResponseJSON,
    gate: Promise<Settled<unknown>>,
    ctx: RequestContext,
    start: (auth: AuthenticationResult) => Promise<T>,
  ): Promise<T | SecondFactorRequired> {
    unwrap(await gate);
    if (!(await this.#o.secrets.spend(challengeId, "passkey_login", ctx.now))) throw invalidGrant(DEAD_CHALLENGE);
    const passkey = await this.#o.store.findByCredentialId(response.id);
    const user = passkey ? await this.#o.users.findById(passkey.user_id) : null;
    if (!passkey || !user) {
      ctx.audit.record("login_failed", null, { reason: "unknown_passkey" }, ctx.now);
      throw new AuthError("invalid_credentials", PASSKEY_NOT_ACCEPTED);
    }
    const input = { passkey, user, response, challenge: challengeId };
    // An assertion cannot be guessed: no CAPTCHA (it would protect nothing).
    const request = { email: user.email, input, skipCaptcha: true };
    return this.#o.login.login(this.#o.method, request, ctx, start).catch((error: unknown) => {
      if (error instanceof AuthError && error.code === "invalid_credentials") {
        throw new AuthError("invalid_credentials", PASSKEY_NOT_ACCEPTED);
      }
      throw error;
    });
  }

  async list(userId: string): Promise<PasskeyView[]> {
    return (await this.#o.store.listFor(userId)).map(passkeyView);
  }

  async rename(id: string, userId: string, name: string, ctx: RequestContext): Promise<PasskeyView> {
    const record = await this.#o.store.rename(id, userId, name);
    if (!record) throw notFound("no such passkey");
    ctx.audit.record("passkey_renamed", userId, { passkey_id: id }, ctx.now);
    return passkeyView(record);
  }

  /** Deletes a passkey of the user; not an account's last way to sign in (no password, one passkey). */
  async delete(id: string, userId: string, ctx: RequestContext): Promise<void> {
    const outcome = await this.#o.store.deleteUnlessLast(id, userId);
    if (outcome === "missing") throw notFound("no such passkey");
    if (outcome === "last") {
      throw new AuthError(
        "conflict",
        "this is the account's last way to sign in: set a password or add another passkey first",
      );
    }
    ctx.audit.record("passkey_deleted", userId, { passkey_id: id }, ctx.now);
  }

  /** A new challenge: the one-time secret's 32 random bytes (the secret's text is their base64url). */
  async #challenge(
    purpose: "passkey_registration" | "passkey_login",
    userId: string | null,
    now: number,
  ): Promise<Uint8Array<ArrayBuffer>> {
    const token = await this.#o.secrets.issue({ purpose, userId, ttlMs: PASSKEY_CHALLENGE_TTL_MS, now });
    const bytes = fromBase64url(token);
    if (!bytes) throw new Error("a one-time secret is not base64url");
    return bytes;
  }
}

/** The challenge a response's clientDataJSON names; a malformed one is a bad request. */
function challengeOf(clientDataJSON: string): string {
  const bytes = fromBase64url(clientDataJSON);
  let parsed: unknown;
  try {
    parsed = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : null;
  } catch {
    parsed = null;
  }
  const challenge = (parsed as { challenge?: unknown } | null)?.challenge;
  if (typeof challenge !== "string" || challenge.length > 512) {
    throw invalidRequest("response.response.clientDataJSON: is not WebAuthn client data");
  }
  return challenge;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : "malformed response";
}
