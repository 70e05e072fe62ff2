/**
 * @module app/container
 * The composition root: builds every store and service from one Worker `env`,
 * each the first time it is asked for, and hands out services only (routes
 * never see a store). Services hold no request state (that travels in the
 * RequestContext), so one container serves every request with the same `env`.
 * Config parsing and key import are cached per isolate.
 */

import { AdminService } from "../admin/service";
import { KeyClaims } from "../api-keys/key-claims";
import { ApiKeyService } from "../api-keys/service";
import { AuditLog } from "../audit/audit-log";
import { AuditTrail } from "../audit/audit-trail";
import { LoginRecorder } from "../audit/login-recorder";
import { type CaptchaVerifier, TurnstileVerifier } from "../authn/captcha";
import { LoginFlow } from "../authn/login-flow";
import { PasswordMethod } from "../authn/methods/password";
import { MFA_METHODS } from "../authn/mfa/second-factors";
import { StepUp } from "../authn/step-up";
import { RoleService } from "../authz/roles";
import { EmailVerification } from "../identity/email-verification";
import { PasswordChangeService } from "../identity/password-change";
import { PasswordResetService } from "../identity/password-reset";
import { SignupService } from "../identity/signup";
import { UserService } from "../identity/users";
import { Memo } from "../lib/memo";
import { RateLimits } from "../limits/rate-limits";
import { AccountSessions } from "../sessions/account-sessions";
import { BrowserSessions } from "../sessions/browser-sessions";
import { RefreshTokenService } from "../sessions/refresh-rotation";
import { RefreshSessions } from "../sessions/refresh-sessions";
import { SessionTokens } from "../sessions/session-tokens";
import { AccessTokenVerifier } from "../tokens/access-token-verifier";
import { type Config, getConfig } from "./config";
import { Internals } from "./internals";
import { MfaServices } from "./mfa-services";
import { OAuthServices } from "./oauth-services";
import { PasswordlessServices } from "./passwordless-services";
import type { Defer, RequestMeta } from "./request-context";

const containers = new WeakMap<object, Container>();

/** The container for `env`, built once per env object. Throws ConfigError for bad settings. */
export function containerFor(env: Env): Container {
  let container = containers.get(env);
  if (!container) {
    container = new Container(env);
    containers.set(env, container);
  }
  return container;
}

export class Container {
  readonly config: Config;
  readonly #internals: Internals;
  readonly #memo = new Memo();

  constructor(env: Env) {
    this.config = getConfig(env);
    this.#internals = new Internals(env, this.config);
  }

  // Services.

  get publicJwks() {
    return this.#internals.keys.publicJwks;
  }

  /** The audit log of one request. */
  auditLog(meta: RequestMeta, defer: Defer): AuditLog {
    return new AuditLog({ store: this.#internals.audit, meta, defer });
  }

  get users() {
    return this.#memo.get("users", () => new UserService({ store: this.#internals.users }));
  }

  get roles() {
    return this.#memo.get("roles", () => new RoleService({ store: this.#internals.roles }));
  }

  get rateLimits() {
    const { windowMs, mailsPerEmail } = this.config.rateLimits;
    return this.#memo.get(
      "rateLimits",
      () => new RateLimits({ store: this.#internals.limiter, windowMs, mailsPerEmail }),
    );
  }

  get accessTokens() {
    return this.#memo.get(
      "accessTokens",
      () =>
        new AccessTokenVerifier({
          keys: this.#internals.keys,
          defaults: this.#internals.issuer.defaults,
          revocation: this.#internals.revocationReader,
        }),
    );
  }

  get sessionTokens() {
    return this.#memo.get(
      "sessionTokens",
      () => new SessionTokens({ issuer: this.#internals.issuer, roles: this.#internals.roles }),
    );
  }

  get refreshSessions() {
    const { refreshToken } = this.config;
    return this.#memo.get(
      "refreshSessions",
      () =>
        new RefreshSessions({
          rotation: new RefreshTokenService(this.#internals.refreshTokens, refreshToken),
          store: this.#internals.sessions,
          revocation: this.#internals.revocation,
          tokens: this.sessionTokens,
          familyMaxAgeMs: refreshToken.maxAgeSeconds * 1000,
          familyIdleMs: refreshToken.ttlSeconds * 1000,
        }),
    );
  }

  get browserSessions() {
    return this.#memo.get(
      "browserSessions",
      () =>
        new BrowserSessions({
          store: this.#internals.sessions,
          revocation: this.#internals.revocation,
          timeouts: this.config.cookieSessions,
          accessTokenHorizonMs: this.#internals.issuer.accessTokenHorizonMs,
        }),
    );
  }

  get accountSessions() {
    return this.#memo.get(
      "accountSessions",
      () =>
        new AccountSessions({
          store: this.#internals.sessions,
          users: this.#internals.users,
          browser: this.browserSessions,
          refresh: this.refreshSessions,
          revocation: this.#internals.revocation,
          accessTokenHorizonMs: this.#internals.issuer.accessTokenHorizonMs,
        }),
    );
  }

  get stepUp() {
    return this.#memo.get("stepUp", () => new StepUp({ users: this.users, proof: this.#internals.proof }));
  }

  get passwordMethod() {
    return this.#memo.get(
      "passwordMethod",
      () => new PasswordMethod({ users: this.users, store: this.#internals.users, passwords: this.config.passwords }),
    );
  }

  get login() {
    const { captcha, publicUrl } = this.config;
    return this.#memo.get("login", () => {
      const verifier: CaptchaVerifier | null = captcha.secret ? new TurnstileVerifier(captcha.secret) : null;
      const recorder = new LoginRecorder({ store: this.#internals.audit, mailer: this.#internals.mailer, publicUrl });
      return new LoginFlow({
        budget: this.#internals.budget,
        captcha: { verifier, afterFailures: captcha.afterFailures },
        onSuccess: (result, ctx) => recorder.recordSuccess(result.user, result.amr, ctx),
        // Read with the user row (users.mfa_enabled): no extra round trip on the login path.
        // A first factor that is multi-factor already (a user-verified passkey) needs no second.
        secondFactor: async (result) =>
          result.user.mfa_enabled === 1 && !result.amr.includes("mfa")
            ? { kind: "second_factor_required", firstFactor: result, methods: MFA_METHODS }
            : null,
      });
    });
  }

  /** Passwordless login: magic links and passkeys. */
  get passwordless(): PasswordlessServices {
    return this.#memo.get("passwordless", () => new PasswordlessServices(this.#internals, this.config, this));
  }

  get emailVerification() {
    return this.#memo.get(
      "emailVerification",
      () =>
        new EmailVerification({
          store: this.#internals.users,
          secrets: this.#internals.secrets,
          proof: this.#internals.proof,
          publicUrl: this.config.publicUrl,
          ttlSeconds: this.config.verificationTokenTtlSeconds,
        }),
    );
  }

  get signup() {
    const { publicUrl, requireEmailVerification, passwords } = this.config;
    return this.#memo.get(
      "signup",
      () =>
        new SignupService({
          policy: this.config.passwordPolicy,
          store: this.#internals.users,
          verification: this.emailVerification,
          mailer: this.#internals.mailer,
          publicUrl,
          requireEmailVerification,
          passwords,
        }),
    );
  }

  get passwordReset() {
    return this.#memo.get(
      "passwordReset",
      () =>
        new PasswordResetService({
          policy: this.config.passwordPolicy,
          users: this.users,
          store: this.#internals.users,
          secrets: this.#internals.secrets,
          sessions: this.accountSessions,
          budget: this.#internals.budget,
          apiKeyStore: this.#internals.apiKeys,
          mailer: this.#internals.mailer,
          publicUrl: this.config.publicUrl,
          tokenTtlSeconds: this.config.passwordResetTokenTtlSeconds,
          passwords: this.config.passwords,
          factors: this.mfa.factors,
        }),
    );
  }

  get passwordChange() {
    return this.#memo.get(
      "passwordChange",
      () =>
        new PasswordChangeService({
          policy: this.config.passwordPolicy,
          users: this.users,
          store: this.#internals.users,
          proof: this.#internals.proof,
          sessions: this.accountSessions,
          mailer: this.#internals.mailer,
          passwords: this.config.passwords,
          publicUrl: this.config.publicUrl,
          factors: this.mfa.factors,
        }),
    );
  }

  get apiKeys() {
    return this.#memo.get(
      "apiKeys",
      () =>
        new ApiKeyService({
          store: this.#internals.apiKeys,
          nonces: this.#internals.nonces,
          mailer: this.#internals.mailer,
          publicUrl: this.config.publicUrl,
          signingMaster: this.config.requestSigningSecret,
          lifetime: this.config.apiKeys,
          revocation: this.#internals.revocation,
          accessTokenHorizonMs: this.#internals.issuer.accessTokenHorizonMs,
        }),
    );
  }

  get keyClaims() {
    return this.#memo.get(
      "keyClaims",
      () =>
        new KeyClaims({
          issuer: this.config.issuer,
          audience: this.#internals.issuer.defaults.audience,
        }),
    );
  }

  get admin() {
    return this.#memo.get(
      "admin",
      () =>
        new AdminService({
          users: this.users,
          userStore: this.#internals.users,
          roles: this.#internals.roles,
          sessions: this.accountSessions,
          apiKeys: this.apiKeys,
        }),
    );
  }

  /** Two-step login: second factors, logins waiting for one, the user's settings. */
  get mfa(): MfaServices {
    return this.#memo.get("mfa", () => new MfaServices(this.#internals, this.config, this));
  }

  /** The OAuth 2.1 / OpenID Connect provider's services. */
  get oauth(): OAuthServices {
    return this.#memo.get("oauth", () => new OAuthServices(this.#internals, this.config, this));
  }

  get auditTrail() {
    return this.#memo.get("auditTrail", () => new AuditTrail({ store: this.#internals.audit }));
  }

  /** The development outbox, the bench's probes and the cron's housekeeping: built in internals. */
  get outbox() {
    return this.#internals.outboxReader;
  }
  get costProbes() {
    return this.#internals.costProbes;
  }
  get housekeeping() {
    return this.#internals.housekeeping;
  }
}
