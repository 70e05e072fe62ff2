/**
 * @module container
 * Wires config, stores and services for one request. Objects here are cheap;
 * the expensive parts (config parsing, key import) are cached per isolate.
 */

import { AdminService } from "../admin/service";
import { ApiKeyStore } from "../api-keys/api-key-store";
import { ApiKeyService } from "../api-keys/service";
import { AuditLogStore } from "../audit/audit-store";
import { type CaptchaVerifier, TurnstileVerifier } from "../authn/captcha";
import { LoginService } from "../authn/login-flow";
import { RoleStore } from "../authz/role-store";
import { AccountService } from "../identity/accounts";
import { PasswordChangeService } from "../identity/password-change";
import { PasswordResetService } from "../identity/password-reset";
import { PasswordResetTokenStore } from "../identity/password-reset-token-store";
import { UserStore } from "../identity/user-store";
import { VerificationTokenStore } from "../identity/verification-token-store";
import { RateLimiterClient } from "../limits/rate-limiter-store";
import { LogMailer, type Mailer, OutboxMailer, ResendMailer } from "../mail/mailer";
import { MailOutboxStore } from "../mail/outbox-store";
import { CookieSessionService } from "../sessions/browser-sessions";
import { RefreshTokenService } from "../sessions/refresh-rotation";
import { SessionService } from "../sessions/refresh-sessions";
import { RefreshTokenStore } from "../sessions/refresh-token-store";
import { SessionStore } from "../sessions/session-store";
import type { AccessTokenSettings } from "../tokens/access-tokens";
import { getSigningKeys, type SigningKeys } from "../tokens/signing-keys";
import { RevocationStore } from "../verify/revocation";
import { type Config, getConfig } from "./config";

export interface Container {
  config: Config;
  keys: SigningKeys;
  accessTokenSettings: AccessTokenSettings;
  users: UserStore;
  revocation: RevocationStore;
  outbox: MailOutboxStore;
  limiter: RateLimiterClient;
  auditLog: AuditLogStore;
  accounts: AccountService;
  sessions: SessionService;
  login: LoginService;
  passwordReset: PasswordResetService;
  passwordChange: PasswordChangeService;
  sessionStore: SessionStore;
  roles: RoleStore;
  admin: AdminService;
  apiKeys: ApiKeyService;
  cookieSessions: CookieSessionService;
}

export async function buildContainer(env: Env): Promise<Container> {
  const config = getConfig(env);
  const keys = await getSigningKeys(config.signingKeys);
  const users = new UserStore(env.DB);
  const revocation = new RevocationStore(env.REVOCATIONS);
  const outbox = new MailOutboxStore(env.DB);
  const accessTokenSettings: AccessTokenSettings = {
    issuer: config.issuer,
    clientId: config.accessToken.clientId,
    audience: config.accessToken.audience,
    ttlSeconds: config.accessToken.ttlSeconds,
  };
  const refreshTokens = new RefreshTokenService(new RefreshTokenStore(env.TOKENS), config.refreshToken);
  const mailer = buildMailer(config, outbox);
  const limiter = new RateLimiterClient(env.RATE_LIMITER);
  const auditLog = new AuditLogStore(env.DB);
  const accounts = new AccountService(users, new VerificationTokenStore(env.DB), mailer, {
    publicUrl: config.publicUrl,
    requireEmailVerification: config.requireEmailVerification,
    verificationTokenTtlSeconds: config.verificationTokenTtlSeconds,
    passwords: config.passwords,
  });
  const sessionStore = new SessionStore(env.DB);
  const roles = new RoleStore(env.DB);
  const sessions = new SessionService(
    users,
    refreshTokens,
    revocation,
    keys,
    accessTokenSettings,
    {
      store: sessionStore,
      familyMaxAgeMs: config.refreshToken.maxAgeSeconds * 1000,
      familyIdleMs: config.refreshToken.ttlSeconds * 1000,
    },
    roles,
  );
  const cookieSessions = new CookieSessionService(sessionStore, revocation, {
    ...config.cookieSessions,
    accessTokenHorizonMs: sessions.accessTokenHorizonMs,
  });
  const captcha: CaptchaVerifier | null = config.captcha.secret ? new TurnstileVerifier(config.captcha.secret) : null;
  const login = new LoginService(accounts, limiter, auditLog, mailer, {
    lockout: config.lockout,
    captcha: { verifier: captcha, afterFailures: config.captcha.afterFailures },
    publicUrl: config.publicUrl,
  });
  const passwordReset = new PasswordResetService(
    users,
    new PasswordResetTokenStore(env.DB),
    sessions,
    limiter,
    mailer,
    {
      publicUrl: config.publicUrl,
      tokenTtlSeconds: config.passwordResetTokenTtlSeconds,
      passwords: config.passwords,
    },
  );
  const passwordChange = new PasswordChangeService(users, accounts, sessions, limiter, mailer, {
    lockout: config.lockout,
    passwords: config.passwords,
    publicUrl: config.publicUrl,
  });
  const apiKeyStore = new ApiKeyStore(env.DB);
  const admin = new AdminService(users, roles, sessions, apiKeyStore);
  const apiKeys = new ApiKeyService(apiKeyStore, {
    masterSecret: config.requestSigningSecret,
    nonces: env.NONCES,
  });
  return {
    apiKeys,
    admin,
    roles,
    sessionStore,
    cookieSessions,
    passwordChange,
    config,
    keys,
    accessTokenSettings,
    users,
    revocation,
    outbox,
    limiter,
    auditLog,
    accounts,
    sessions,
    login,
    passwordReset,
  };
}

function buildMailer(config: Config, outbox: MailOutboxStore): Mailer {
  switch (config.mail.transport) {
    case "outbox":
      return new OutboxMailer(outbox);
    case "resend":
      // config.ts guarantees the key is present for this transport.
      return new ResendMailer(config.mail.resendApiKey ?? "", config.mail.from);
    case "log":
      return new LogMailer({ includeBodies: config.environment !== "production" });
  }
}
