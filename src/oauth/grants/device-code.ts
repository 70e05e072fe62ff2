/**
 * @module oauth/grants/device-code
 * `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4–3.5): a
 * client polls with its device code until the user answers on /device. Each
 * poll is recorded and answered in one statement (device-authorization-store.ts):
 * `authorization_pending`, `slow_down` (and the interval grows by 5 s),
 * `access_denied`, `expired_token`, or the tokens, for exactly one poll. A
 * code polled by another client than its own, an unknown code and a code
 * already redeemed are `invalid_grant`. The tokens are the user grant's, as
 * for an authorization code (user-grant-tokens.ts).
 *
 * A second redemption revokes nothing (unlike a replayed authorization
 * code): a device code never passes through a browser, so a second poll is a
 * client racing itself far more often than a stolen code.
 */
import { AuthError, invalidGrant } from "../../app/errors/codes";
import { DEVICE_CODE_GRANT } from "../clients/client-metadata";
import type { DeviceAuthorizations } from "../device/device-authorizations";
import type { Grant } from "./grant";
import { issueUserGrantTokens, type UserGrantTokensOptions } from "./user-grant-tokens";

export interface DeviceCodeGrantOptions extends UserGrantTokensOptions {
  devices: DeviceAuthorizations;
}

export function deviceCodeGrant(o: DeviceCodeGrantOptions): Grant {
  return {
    grantType: DEVICE_CODE_GRANT,
    async handle(params, client, ctx) {
      const polled = await o.devices.poll(params.require("device_code"), client.id, ctx.now);
      switch (polled.result) {
        case "pending":
          throw new AuthError("authorization_pending", "the user has not answered yet");
        case "slow_down":
          throw new AuthError("slow_down", `polled too soon: wait ${polled.intervalSeconds} s between polls`);
        case "denied":
          throw new AuthError("access_denied", "the user denied the request");
        case "expired":
          throw new AuthError("expired_token", "the device code has expired; start again");
        case "spent":
          throw invalidGrant("the device code has already been used");
        case "unknown":
          throw invalidGrant("the device code is invalid or was issued to another client");
        case "redeemed": {
          if (!polled.approval) throw invalidGrant("the device code is invalid");
          const { grantedScopes, ...approval } = polled.approval;
          return issueUserGrantTokens(o, { ...approval, scopes: grantedScopes }, client, ctx, "device code");
        }
      }
    },
  };
}
