/**
 * @module container
 * Wires config, stores and services for one request. Objects here are cheap;
 * the expensive parts (config parsing, key import) are cached per isolate.
 */
import { type Config, getConfig } from "./config";
import type { AccessTokenSettings } from "./services/access-tokens";
import { AccountService } from "./services/accounts";
import { LogMailer, type Mailer, OutboxMailer, ResendMailer } from "./services/mailer";
import { RefreshTokenService } from "./services/refresh-tokens";
import { SessionService } from "./services/sessions";
import { getSigningKeys, type SigningKeys } from "./services/signing-keys";
import { MailOutboxStore } from "./storage/mail-outbox";
import { RefreshTokenStore } from "./storage/refresh-tokens";
import { RevocationStore } from "./storage/revocation";
import { UserStore } from "./storage/users";
import { VerificationTokenStore } from "./storage/verification-tokens";

export interface Container {
  config: Config;
  keys: SigningKeys;
  accessTokenSettings: AccessTokenSettings;
  users: UserStore;
  revocation: RevocationStore;
  outbox: MailOutboxStore;
  accounts: AccountService;
  sessions: SessionService;
}

export async function buildContainer(env: Env): Promise<Container> {
  const config = getConfig(env);
  const keys = await getSigningKeys(config.signingKeys);
  const users = new UserStore(env.DB);
  const revocation = new RevocationStore(env.TOKENS);
  const outbox = new MailOutboxStore(env.DB);
  const accessTokenSettings: AccessTokenSettings = {
    issuer: config.issuer,
    audience: config.accessToken.audience,
    ttlSeconds: config.accessToken.ttlSeconds,
  };
  const refreshTokens = new RefreshTokenService(new RefreshTokenStore(env.TOKENS), config.refreshToken);
  const accounts = new AccountService(users, new VerificationTokenStore(env.DB), buildMailer(config, outbox), {
    publicUrl: config.publicUrl,
    requireEmailVerification: config.requireEmailVerification,
    verificationTokenTtlSeconds: config.verificationTokenTtlSeconds,
    passwords: config.passwords,
  });
  const sessions = new SessionService(users, refreshTokens, revocation, keys, accessTokenSettings);
  return { config, keys, accessTokenSettings, users, revocation, outbox, accounts, sessions };
}

function buildMailer(config: Config, outbox: MailOutboxStore): Mailer {
  switch (config.mail.transport) {
    case "outbox":
      return new OutboxMailer(outbox);
    case "resend":
      // config.ts guarantees the key is present for this transport.
      return new ResendMailer(config.mail.resendApiKey ?? "", config.mail.from);
    case "log":
      return new LogMailer();
  }
}
