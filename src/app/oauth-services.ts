/**
 * @module app/oauth-services
 * The OAuth 2.1 / OpenID Connect provider's part of the composition root:
 * its services, each built on first use from the shared internals and the
 * account services it builds on (users, roles, sessions). Routes reach them
 * as `services.oauth.*`.
 */

import { Memo } from "../lib/memo";
import { AuthorizationCodes } from "../oauth/authorization-codes";
import { Authorizer } from "../oauth/authorize/authorizer";
import { Interactions } from "../oauth/authorize/interactions";
import { ClientAuthentication } from "../oauth/client-authentication";
import { OAuthClients } from "../oauth/clients/clients";
import { developmentClients } from "../oauth/clients/development-clients";
import { ConsentStore } from "../oauth/consent-store";
import { Consents } from "../oauth/consents";
import { DeviceAuthorizations } from "../oauth/device/device-authorizations";
import { DeviceVerification } from "../oauth/device/device-verification";
import { discoveryDocument } from "../oauth/discovery";
import { apiKeyExchangeGrant } from "../oauth/grants/api-key-exchange";
import { authorizationCodeGrant } from "../oauth/grants/authorization-code";
import { clientCredentialsGrant } from "../oauth/grants/client-credentials";
import { deviceCodeGrant } from "../oauth/grants/device-code";
import { refreshTokenGrant } from "../oauth/grants/refresh-token";
import { IdTokens } from "../oauth/id-tokens";
import { TokenIntrospection } from "../oauth/introspection";
import { RpLogout } from "../oauth/logout";
import { ClientRegistration } from "../oauth/registration";
import { TokenRevocation } from "../oauth/revocation";
import { TokenEndpoint } from "../oauth/token-endpoint";
import { UserInfo } from "../oauth/userinfo";
import type { Config } from "./config";
import type { Container } from "./container";
import type { Internals } from "./internals";

export class OAuthServices {
  readonly #internals: Internals;
  readonly #config: Config;
  readonly #account: Container;
  readonly #memo = new Memo();

  constructor(internals: Internals, config: Config, account: Container) {
    this.#internals = internals;
    this.#config = config;
    this.#account = account;
  }

  get clients() {
    // A client's tokens are for edgelock itself (userinfo) until an admin assigns
    // it an API: a sign-in-only app must not get tokens every API accepts as the user.
    const defaultAudience = this.#config.issuer;
    return this.#memo.get(
      "clients",
      () =>
        new OAuthClients({
          store: this.#internals.clients,
          defaultAudience,
          revocation: this.#internals.revocation,
          accessTokenHorizonMs: this.#internals.issuer.accessTokenHorizonMs,
          // Development's edgelock-cli (examples/cli): a migration cannot know the environment.
          seeded: this.#config.environment === "production" ? [] : developmentClients(defaultAudience, Date.now()),
        }),
    );
  }

  get clientAuthentication() {
    return this.#memo.get(
      "clientAuthentication",
      () => new ClientAuthentication({ clients: this.clients, limiter: this.#internals.limiter }),
    );
  }

  get idTokens() {
    const { issuer, oauth } = this.#config;
    return this.#memo.get(
      "idTokens",
      () => new IdTokens({ keys: this.#internals.keys, issuer, ttlSeconds: oauth.idTokenTtlSeconds }),
    );
  }

  get consents() {
    return this.#memo.get(
      "consents",
      () =>
        new Consents({
          store: new ConsentStore(this.#internals.db),
          revocation: this.#internals.revocation,
          accessTokenHorizonMs: this.#internals.issuer.accessTokenHorizonMs,
        }),
    );
  }

  get #codes() {
    return this.#memo.get("codes", () => new AuthorizationCodes({ secrets: this.#internals.secrets }));
  }

  get #interactions() {
    return this.#memo.get("interactions", () => new Interactions({ secrets: this.#internals.secrets }));
  }

  get deviceAuthorizations() {
    return this.#memo.get(
      "deviceAuthorizations",
      () =>
        new DeviceAuthorizations({ store: this.#internals.deviceAuthorizations, publicUrl: this.#config.publicUrl }),
    );
  }

  get deviceVerification() {
    const { windowMs, perIp } = this.#config.rateLimits;
    return this.#memo.get(
      "deviceVerification",
      () =>
        new DeviceVerification({
          devices: this.deviceAuthorizations,
          interactions: this.#interactions,
          users: this.#account.users,
          roles: this.#account.roles,
          consents: this.consents,
          limiter: this.#internals.limiter,
          entriesPerAccount: { limit: perIp.deviceCode, windowMs },
        }),
    );
  }

  get authorizer() {
    return this.#memo.get(
      "authorizer",
      () =>
        new Authorizer({
          clients: this.clients,
          codes: this.#codes,
          consents: this.consents,
          interactions: this.#interactions,
          users: this.#account.users,
          roles: this.#account.roles,
          idTokens: this.idTokens,
          issuer: this.#config.issuer,
        }),
    );
  }

  get tokenEndpoint() {
    return this.#memo.get("tokenEndpoint", () => {
      const sessions = this.#account.refreshSessions;
      // What a grant a user gave turns into tokens with: the code and device grants share it.
      const userGrantTokens = {
        users: this.#account.users,
        roles: this.#account.roles,
        consents: this.consents,
        sessions,
        sessionTokens: this.#account.sessionTokens,
        idTokens: this.idTokens,
      };
      const codeGrant = authorizationCodeGrant({
        ...userGrantTokens,
        codes: this.#codes,
        revokeGrant: (grantId, userId, now) => sessions.revokeFamily(grantId, userId, now),
      });
      const grants = [
        codeGrant,
        deviceCodeGrant({ ...userGrantTokens, devices: this.deviceAuthorizations }),
        refreshTokenGrant(sessions, this.idTokens),
        clientCredentialsGrant(this.#internals.issuer),
        apiKeyExchangeGrant({
          apiKeys: this.#account.apiKeys,
          keyClaims: this.#account.keyClaims,
          users: this.#account.users,
          issuer: this.#internals.issuer,
        }),
      ];
      return new TokenEndpoint({ grants, authentication: this.clientAuthentication });
    });
  }

  get tokenRevocation() {
    return this.#memo.get(
      "tokenRevocation",
      () =>
        new TokenRevocation({
          sessions: this.#account.refreshSessions,
          inspector: this.#internals.inspector,
          revocation: this.#internals.revocation,
        }),
    );
  }

  get tokenIntrospection() {
    return this.#memo.get("tokenIntrospection", () => new TokenIntrospection({ inspector: this.#internals.inspector }));
  }

  get registration() {
    return this.#memo.get(
      "registration",
      () =>
        new ClientRegistration({
          mode: this.#config.oauth.registration,
          clients: this.clients,
          secrets: this.#internals.secrets,
        }),
    );
  }

  get logout() {
    return this.#memo.get("logout", () => new RpLogout({ clients: this.clients, idTokens: this.idTokens }));
  }

  get userInfo() {
    return this.#memo.get(
      "userInfo",
      () => new UserInfo({ inspector: this.#internals.inspector, users: this.#account.users }),
    );
  }

  /** The discovery document (the permission names come from D1). */
  async discovery(): Promise<Record<string, unknown>> {
    return discoveryDocument({
      issuer: this.#config.issuer,
      publicUrl: this.#config.publicUrl,
      grantTypes: this.tokenEndpoint.grantTypes,
      idTokenAlgorithms: this.idTokens.algorithms,
      permissions: await this.#account.roles.permissionNames(),
      registration: this.registration.enabled,
    });
  }
}
