/**
 * @module oauth/clients/development-clients
 * The clients every non-production deployment has without anyone creating
 * them: `edgelock-cli`, the public client of `examples/cli` (device grant and
 * refresh tokens, first-party). A migration cannot know the environment, so
 * OAuthClients writes it on the first lookup that misses it, and only when
 * ENVIRONMENT is not production. In production an admin creates the CLI's
 * client through the admin API (docs/oauth.md, "The device grant").
 */
import { type ClientMetadataInput, clientSettings, DEVICE_CODE_GRANT } from "./client-metadata";
import type { ClientRecord } from "./client-store";

export const EDGELOCK_CLI_CLIENT_ID = "edgelock-cli";

/** What the admin API is sent to create the same client in production. */
export const EDGELOCK_CLI_METADATA: ClientMetadataInput = {
  client_name: "edgelock CLI",
  token_endpoint_auth_method: "none",
  grant_types: [DEVICE_CODE_GRANT, "refresh_token"],
  scope: "openid email offline_access",
  first_party: true,
};

/** The clients, stamped `now` (when the isolate first built its services). */
export function developmentClients(defaultAudience: string, now: number): ClientRecord[] {
  return [
    {
      ...clientSettings(EDGELOCK_CLI_METADATA, "admin", defaultAudience),
      id: EDGELOCK_CLI_CLIENT_ID,
      secretHash: null,
      createdBy: "development",
      createdAt: now,
      updatedAt: now,
    },
  ];
}
