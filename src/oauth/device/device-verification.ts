/**
 * @module oauth/device/device-verification
 * `DeviceVerification`: the user's side of the device grant (RFC 8628 §3.3).
 * A user code typed on /device (rate-limited per IP by the route and per
 * account here) becomes a device interaction, which the hosted login pages
 * carry through login and MFA like an authorization request; the
 * confirmation names the client, the scopes and the code, and the answer is
 * recorded on the device authorization for the client's next poll.
 * Approving a client that is not first-party is also a consent (listed, and
 * withdrawable, like the authorize flow's).
 */
import { AuthError, tooManyRequests } from "../../app/errors/codes";
import type { RequestContext } from "../../app/request-context";
import type { RoleService } from "../../authz/roles";
import type { UserRecord } from "../../identity/user-store";
import type { UserService } from "../../identity/users";
import { randomId } from "../../lib/crypto/random";
import { deviceCodeAccountKey } from "../../limits/keys";
import type { RatePolicy } from "../../limits/policies";
import type { RateLimiterStore } from "../../limits/rate-limiter-store";
import type { ResolvedBrowserSession } from "../../sessions/browser-sessions";
import { parseAmr } from "../../sessions/session-tokens";
import { AuthorizeFailure } from "../authorize/authorization-request";
import type { DeviceInteraction, Interactions } from "../authorize/interactions";
import type { ClientRecord } from "../clients/client-store";
import type { Consents } from "../consents";
import { delegableScopes } from "../delegable-scopes";
import type { DeviceAuthorizations, PendingDeviceAuthorization } from "./device-authorizations";
import { formatUserCode } from "./user-codes";

export interface DeviceVerificationOptions {
  devices: DeviceAuthorizations;
  interactions: Interactions;
  users: UserService;
  roles: RoleService;
  consents: Consents;
  limiter: RateLimiterStore;
  /** Codes one account may enter per window (the route limits each IP the same way). */
  entriesPerAccount: RatePolicy;
}

/** What the confirmation page shows. */
export interface DeviceConfirmation {
  userCode: string;
  scopes: string[];
  userEmail: string;
  csrfToken: string;
}

export class DeviceVerification {
  readonly #o: DeviceVerificationOptions;

  constructor(options: DeviceVerificationOptions) {
    this.#o = options;
  }

  /**
   * A typed user code: the interaction that carries it on, or null when it
   * names no pending request. Malformed, unknown, answered and expired codes
   * get the same null, so an answer says nothing about any other code.
   */
  async enter(input: string, browser: ResolvedBrowserSession | null, ctx: RequestContext) {
    if (browser) await this.#countAccountEntry(browser.session.user_id, ctx);
    const pending = await this.#o.devices.findByUserCode(input, ctx.now);
    if (!pending) return null;
    const device = { deviceAuthorizationId: pending.id, clientId: pending.clientId };
    return this.#o.interactions.beginDevice(device, ctx.now, pending.expiresAt - ctx.now);
  }

  /** The confirmation page's content; null when the browser's session cannot answer (log in first). */
  async confirmation(
    interaction: DeviceInteraction,
    client: ClientRecord,
    browser: ResolvedBrowserSession | null,
    now: number,
  ): Promise<DeviceConfirmation | null> {
    const user = browser ? await this.#o.users.findActive(browser.session.user_id) : null;
    if (!user || !browser) return null;
    const pending = await this.#pending(interaction, now);
    return {
      userCode: formatUserCode(pending.userCode),
      scopes: await this.#grantableScopes(user, client, pending.scopes),
      userEmail: user.email,
      csrfToken: browser.csrfToken,
    };
  }

  /** The user's answer; "login" when the session cannot give one. Spends the interaction. */
  async answer(
    interaction: DeviceInteraction,
    client: ClientRecord,
    browser: ResolvedBrowserSession,
    approve: boolean,
    ctx: RequestContext,
  ): Promise<"approved" | "denied" | "login"> {
    const user = await this.#o.users.findActive(browser.session.user_id);
    if (!user) return "login";
    const pending = await this.#pending(interaction, ctx.now);
    // Spent once: a second submit of the page (another tab, a double click) answers nothing.
    if (!(await this.#o.interactions.end(interaction.id, ctx.now))) throw gone();
    const details = { client_id: client.id, device_authorization_id: pending.id };
    if (!approve) {
      const denied = await this.#o.devices.decide(pending.id, { status: "denied", userId: user.id }, ctx.now);
      if (!denied) throw gone();
      ctx.audit.record("oauth_device_denied", user.id, details, ctx.now);
      return "denied";
    }
    const scopes = await this.#grantableScopes(user, client, pending.scopes);
    // Before the approval: a poll that redeems it checks the consent stands.
    if (!client.firstParty) await this.#o.consents.grant(user.id, client.id, scopes, ctx);
    const session = browser.session;
    const approved = await this.#o.devices.decide(
      pending.id,
      {
        status: "approved",
        userId: user.id,
        grantedScopes: scopes,
        amr: parseAmr(session.amr),
        authTime: session.auth_time ?? session.created_at,
        grantId: randomId(),
      },
      ctx.now,
    );
    if (!approved) throw gone();
    ctx.audit.record("oauth_device_approved", user.id, { ...details, scopes }, ctx.now);
    return "approved";
  }

  async #pending(interaction: DeviceInteraction, now: number): Promise<PendingDeviceAuthorization> {
    const pending = await this.#o.devices.findPending(interaction.deviceAuthorizationId, now);
    if (!pending) throw gone();
    return pending;
  }

  /** The requested scopes the user can delegate now: registered for the client, permissions the user holds. */
  async #grantableScopes(user: UserRecord, client: ClientRecord, scopes: string[]): Promise<string[]> {
    return delegableScopes(scopes, client, user.id, await this.#o.roles.grantsFor(user.id));
  }

  /** A signed-in user guessing codes from many addresses is still one account: counted here. */
  async #countAccountEntry(userId: string, ctx: RequestContext): Promise<void> {
    const decision = await this.#o.limiter.consume(deviceCodeAccountKey(userId), this.#o.entriesPerAccount, ctx.now);
    if (!decision.allowed) {
      ctx.audit.recordRefusal("rate_limited", decision.refusedInARow, { limit: "device-code-per-account" }, ctx.now);
      throw tooManyRequests(decision.retryAfterMs);
    }
  }
}

/** The request was answered, expired or spent meanwhile: a local page, never a redirect (there is none). */
function gone(): AuthorizeFailure {
  return new AuthorizeFailure(
    new AuthError("invalid_request", "this code has expired or was already used; start again on your device"),
    null,
  );
}
