/**
 * @module app/internals
 * What the container builds services from and never hands out: every store
 * over the Worker's bindings, and the building blocks several services share
 * (signing keys, the mailer, one-time secrets, the attempt budget, the token
 * issuer); and the operational services built straight from stores (the
 * development outbox, the bench's probes, the cron's housekeeping), which the
 * container hands on. Each is built the first time it is asked for.
 */
import { ApiKeyStore } from "../api-keys/api-key-store";
import { NonceClaimsStore } from "../api-keys/nonce-claims-store";
import { AuditStore } from "../audit/audit-store";
import { AttemptBudget } from "../authn/attempt-budget";
import { RecoveryCodeStore } from "../authn/mfa/recovery-code-store";
import { TotpStore } from "../authn/mfa/totp-store";
import { PasskeyStore } from "../authn/passkeys/passkey-store";
import { PasswordProof } from "../authn/password-proof";
import { RoleStore } from "../authz/role-store";
import { reportUnknownDefaultRoles } from "../authz/roles";
import { CostProbes } from "../dev/storage-cost";
import { UserStore } from "../identity/user-store";
import { Memo } from "../lib/memo";
import { RateLimiterStore } from "../limits/rate-limiter-store";
import { createMailer, type Mailer } from "../mail/mailer";
import { Outbox } from "../mail/outbox";
import { OutboxStore } from "../mail/outbox-store";
import { ClientStore } from "../oauth/clients/client-store";
import { DeviceAuthorizationStore } from "../oauth/device/device-authorization-store";
import { OneTimeSecretStore } from "../one-time-secrets/one-time-secret-store";
import { OneTimeSecrets } from "../one-time-secrets/one-time-secrets";
import { RefreshTokenStore } from "../sessions/refresh-token-store";
import { RevocationWriter } from "../sessions/revocation-store";
import { SessionStore } from "../sessions/session-store";
import { TokenIssuer } from "../tokens/issuer";
import { getSigningKeys, type SigningKeys } from "../tokens/signing-keys";
import { TokenInspector } from "../tokens/token-inspector";
import { RevocationReader } from "../verify/revocation";
import type { Config } from "./config";
import { Housekeeping } from "./housekeeping";

export class Internals {
  readonly #env: Env;
  readonly #config: Config;
  readonly #memo = new Memo();

  constructor(env: Env, config: Config) {
    this.#env = env;
    this.#config = config;
  }

  get db(): D1Database {
    return this.#env.DB;
  }
  get tokensKv(): KVNamespace {
    return this.#env.TOKENS;
  }
  get users() {
    const options = { defaultRoles: this.#config.defaultRoles, onUnknownRoles: reportUnknownDefaultRoles };
    return this.#memo.get("users", () => new UserStore(this.db, options));
  }
  get sessions() {
    return this.#memo.get("sessions", () => new SessionStore(this.db));
  }
  get roles() {
    return this.#memo.get("roles", () => new RoleStore(this.db));
  }
  get audit() {
    return this.#memo.get("audit", () => new AuditStore(this.db));
  }
  get secretStore() {
    return this.#memo.get("secretStore", () => new OneTimeSecretStore(this.db));
  }
  get outbox() {
    return this.#memo.get("outbox", () => new OutboxStore(this.db));
  }
  get apiKeys() {
    return this.#memo.get("apiKeys", () => new ApiKeyStore(this.db));
  }
  get totp() {
    return this.#memo.get("totp", () => new TotpStore(this.db));
  }
  get passkeys() {
    return this.#memo.get("passkeys", () => new PasskeyStore(this.db));
  }
  get recoveryCodes() {
    return this.#memo.get("recoveryCodes", () => new RecoveryCodeStore(this.db));
  }
  get clients() {
    return this.#memo.get("clients", () => new ClientStore(this.db));
  }
  get deviceAuthorizations() {
    return this.#memo.get("deviceAuthorizations", () => new DeviceAuthorizationStore(this.db));
  }
  get limiter() {
    return this.#memo.get("limiter", () => new RateLimiterStore(this.#env.RATE_LIMITER));
  }
  get nonces() {
    return this.#memo.get("nonces", () => new NonceClaimsStore(this.#env.NONCES));
  }
  get refreshTokens() {
    return this.#memo.get("refreshTokens", () => new RefreshTokenStore(this.tokensKv));
  }
  get revocation() {
    return this.#memo.get("revocation", () => new RevocationWriter(this.#env.REVOCATIONS));
  }
  get revocationReader() {
    return this.#memo.get("revocationReader", () => new RevocationReader(this.#env.REVOCATIONS));
  }

  get keys(): SigningKeys {
    return getSigningKeys(this.#config.signingKeys);
  }
  get mailer(): Mailer {
    const { mail, environment } = this.#config;
    return this.#memo.get("mailer", () =>
      createMailer({ ...mail, logBodies: environment !== "production" }, this.outbox),
    );
  }
  get secrets() {
    return this.#memo.get("secrets", () => new OneTimeSecrets({ store: this.secretStore }));
  }
  get budget() {
    return this.#memo.get("budget", () => new AttemptBudget({ store: this.limiter, lockout: this.#config.lockout }));
  }
  get proof() {
    return this.#memo.get("proof", () => new PasswordProof({ budget: this.budget, passwords: this.#config.passwords }));
  }
  get issuer() {
    const defaults = { issuer: this.#config.issuer, ...this.#config.accessToken };
    return this.#memo.get("issuer", () => new TokenIssuer({ keys: this.keys, defaults }));
  }

  get inspector() {
    const options = { issuer: this.#config.issuer, jwks: this.keys.publicJwks, revocation: this.revocationReader };
    return this.#memo.get("inspector", () => new TokenInspector(options));
  }

  get outboxReader() {
    return this.#memo.get("outboxReader", () => new Outbox({ store: this.outbox }));
  }
  get costProbes() {
    const options = { limiter: this.limiter, users: this.users, kv: this.tokensKv, db: this.db };
    return this.#memo.get("costProbes", () => new CostProbes({ ...options, passwords: this.#config.passwords }));
  }
  get housekeeping() {
    const stores = {
      audit: this.audit,
      sessions: this.sessions,
      secrets: this.secretStore,
      deviceAuthorizations: this.deviceAuthorizations,
    };
    return this.#memo.get(
      "housekeeping",
      () => new Housekeeping({ ...stores, auditRetentionDays: this.#config.auditRetentionDays }),
    );
  }
}
