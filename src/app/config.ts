/**
 * @module app/config
 * Reads and validates the Worker's vars and secrets once per `env` object (zod).
 * Nothing else in the codebase reads `env` for settings. A missing or malformed
 * value becomes a ConfigError that names it; the error handler answers
 * 500 server_misconfigured and logs the names (never the values).
 */
import * as z from "zod";
import { PASSWORD_MIN_LENGTH_FLOOR, PASSWORD_MIN_LENGTH_SINGLE_FACTOR } from "../identity/password-policy";
import { PBKDF2_MAX_ITERATIONS } from "../lib/crypto/pbkdf2";
import type { Keyring } from "../lib/crypto/sealing";
import {
  aesKey,
  booleanString,
  count,
  jsonString,
  keyId,
  pepper,
  privateJwk,
  roleNames,
  seconds,
} from "./config-fields";
import { ConfigError } from "./errors/codes";

const schema = z
  .object({
    ENVIRONMENT: z.enum(["production", "development", "test"]).default("production"),
    ISSUER: z.url(),
    PUBLIC_URL: z.url(),
    ACCESS_TOKEN_AUDIENCE: z.string().min(1),
    ACCESS_TOKEN_TTL_SECONDS: seconds(600, 60, 86_400),
    ACCESS_TOKEN_CLIENT_ID: z.string().min(1).default("edgelock"),
    REFRESH_TOKEN_TTL_SECONDS: seconds(604_800, 60, 31_536_000),
    REFRESH_TOKEN_MAX_AGE_SECONDS: seconds(2_592_000, 60, 31_536_000),
    REFRESH_REUSE_GRACE_SECONDS: seconds(10, 0, 60),
    VERIFICATION_TOKEN_TTL_SECONDS: seconds(86_400, 60, 604_800),
    REQUIRE_EMAIL_VERIFICATION: booleanString(true),
    PBKDF2_ITERATIONS: z.coerce.number().int().min(10_000).max(PBKDF2_MAX_ITERATIONS).default(PBKDF2_MAX_ITERATIONS),
    PASSWORD_PEPPER: pepper,
    PASSWORD_MIN_LENGTH: z.coerce
      .number()
      .int()
      .min(PASSWORD_MIN_LENGTH_FLOOR)
      .max(64)
      .default(PASSWORD_MIN_LENGTH_SINGLE_FACTOR),
    PASSWORD_PEPPER_ID: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,16}$/, "must be 1-16 characters of A-Z a-z 0-9 _ -")
      .default("p1"),
    PASSWORD_OLD_PEPPERS: jsonString(z.record(z.string(), pepper)).optional(),
    JWT_PRIVATE_KEYS: jsonString(z.object({ keys: z.array(privateJwk).min(1) })),
    SESSION_IDLE_SECONDS: seconds(1800, 60, 2_592_000),
    SESSION_ABSOLUTE_SECONDS: seconds(43_200, 60, 2_592_000),
    SESSION_REMEMBER_ME_IDLE_SECONDS: seconds(604_800, 60, 2_592_000),
    SESSION_REMEMBER_ME_SECONDS: seconds(2_592_000, 60, 2_592_000),
    RATE_LIMIT_WINDOW_SECONDS: seconds(900, 1, 86_400),
    RATE_LIMIT_SIGNUP_PER_IP: count(20),
    RATE_LIMIT_LOGIN_PER_IP: count(100),
    RATE_LIMIT_REFRESH_PER_IP: count(300),
    RATE_LIMIT_VERIFY_EMAIL_PER_IP: count(30),
    RATE_LIMIT_PASSWORD_RESET_PER_IP: count(10),
    RATE_LIMIT_MAGIC_LINK_PER_IP: count(10),
    MAGIC_LINK_SIGNUP: booleanString(false),
    PASSKEY_EXTRA_ORIGINS: z
      .string()
      .default("")
      .transform((text, ctx) => {
        const origins = text.split(/[\s,]+/).filter(Boolean);
        for (const origin of origins) {
          if (!/^https?:\/\/[^/\s*]+$/.test(origin))
            ctx.addIssue({ code: "custom", message: `${origin} is not an origin` });
        }
        return origins;
      }),
    RATE_LIMIT_MAILS_PER_EMAIL: count(5),
    RATE_LIMIT_OAUTH_TOKEN_PER_IP: count(300),
    RATE_LIMIT_DEVICE_CODE_PER_IP: count(30),
    OAUTH_REGISTRATION: z.enum(["off", "token", "open"]).optional(),
    ID_TOKEN_TTL_SECONDS: seconds(3600, 60, 86_400),
    MFA_ENCRYPTION_KEY: aesKey.optional(),
    MFA_ENCRYPTION_KEY_ID: keyId.default("m1"),
    MFA_OLD_ENCRYPTION_KEYS: jsonString(z.record(z.string(), aesKey)).optional(),
    PASSWORD_RESET_TOKEN_TTL_SECONDS: seconds(3600, 300, 86_400),
    LOGIN_MAX_FAILURES: count(5),
    LOGIN_FAILURE_WINDOW_SECONDS: seconds(900, 1, 86_400),
    LOCKOUT_BASE_SECONDS: seconds(1, 1, 3600),
    LOCKOUT_MAX_SECONDS: seconds(900, 1, 86_400),
    TURNSTILE_SECRET: z.string().min(1).optional(),
    REQUEST_SIGNING_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
    CAPTCHA_AFTER_FAILURES: count(3),
    AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
    API_KEY_DEFAULT_TTL_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
    API_KEY_MAX_TTL_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
    DEFAULT_ROLES: roleNames("member"),
    CORS_ALLOWED_ORIGINS: z
      .string()
      .default("")
      .transform((text, ctx) => {
        const origins = text.split(/[\s,]+/).filter(Boolean);
        for (const origin of origins) {
          // Exact origins only: a wildcard with credentials would hand every site the user's session.
          if (!/^https?:\/\/[^/\s*]+$/.test(origin))
            ctx.addIssue({ code: "custom", message: `${origin} is not an origin` });
        }
        return origins;
      }),
    MAIL_TRANSPORT: z.enum(["outbox", "log", "resend"]).default("log"),
    MAIL_FROM: z.string().min(3).default("edgelock <no-reply@localhost>"),
    RESEND_API_KEY: z.string().min(1).optional(),
  })
  .superRefine((env, ctx) => {
    if (env.MAIL_TRANSPORT === "resend" && !env.RESEND_API_KEY) {
      ctx.addIssue({ code: "custom", path: ["RESEND_API_KEY"], message: "is required when MAIL_TRANSPORT=resend" });
    }
    if (env.MAIL_TRANSPORT === "outbox" && env.ENVIRONMENT === "production") {
      // The outbox only stores mail for /_dev/outbox, which production does not serve:
      // verification mail would silently never arrive.
      ctx.addIssue({ code: "custom", path: ["MAIL_TRANSPORT"], message: "outbox is for development and tests only" });
    }
    if (env.ENVIRONMENT === "production" && env.REQUIRE_EMAIL_VERIFICATION && env.MAIL_TRANSPORT !== "resend") {
      // Verification links would never reach anyone: refuse to run half-configured.
      ctx.addIssue({
        code: "custom",
        path: ["MAIL_TRANSPORT"],
        message: "must be a delivering transport (resend) in production while REQUIRE_EMAIL_VERIFICATION=true",
      });
    }
    if (env.API_KEY_MAX_TTL_DAYS < env.API_KEY_DEFAULT_TTL_DAYS) {
      ctx.addIssue({
        code: "custom",
        path: ["API_KEY_MAX_TTL_DAYS"],
        message: "must be at least API_KEY_DEFAULT_TTL_DAYS",
      });
    }
    if (env.REFRESH_TOKEN_MAX_AGE_SECONDS < env.REFRESH_TOKEN_TTL_SECONDS) {
      ctx.addIssue({
        code: "custom",
        path: ["REFRESH_TOKEN_MAX_AGE_SECONDS"],
        message: "must be at least REFRESH_TOKEN_TTL_SECONDS",
      });
    }
  });

type RawConfig = z.output<typeof schema>;
export type PrivateJwk = z.output<typeof privateJwk>;

export interface Config {
  environment: RawConfig["ENVIRONMENT"];
  issuer: string;
  publicUrl: string;
  accessToken: { audience: string; ttlSeconds: number; clientId: string };
  refreshToken: { ttlSeconds: number; maxAgeSeconds: number; reuseGraceSeconds: number };
  verificationTokenTtlSeconds: number;
  passwordResetTokenTtlSeconds: number;
  requireEmailVerification: boolean;
  passwords: {
    iterations: number;
    pepperId: string;
    /** Every pepper we can verify with, keyed by id; the current one included. */
    peppers: Record<string, string>;
  };
  passwordPolicy: { minLength: number };
  signingKeys: PrivateJwk[];
  cookieSessions: { idleMs: number; absoluteMs: number; rememberMeIdleMs: number; rememberMeAbsoluteMs: number };
  rateLimits: {
    windowMs: number;
    perIp: {
      signup: number;
      login: number;
      refresh: number;
      verifyEmail: number;
      passwordReset: number;
      /** Magic-link requests (each mails an address) per IP. */
      magicLink: number;
      /** Token, revocation and introspection requests (client authentication) per IP. */
      oauthToken: number;
      /** User codes entered on /device per IP (and per signed-in account). */
      deviceCode: number;
    };
    /** Mails (signup, password reset, magic link) one address may be sent per hour. */
    mailsPerEmail: number;
  };
  /** Magic-link login; `signup`: a link to an unknown address creates its (password-less) account. */
  magicLinks: { signup: boolean };
  /**
   * WebAuthn: the relying party id (PUBLIC_URL's host name), its display name,
   * and the origins a ceremony may come from (PUBLIC_URL's, then PASSKEY_EXTRA_ORIGINS).
   */
  passkeys: { rpId: string; rpName: string; origins: string[] };
  lockout: { maxFailures: number; windowMs: number; baseLockMs: number; maxLockMs: number };
  /** Turnstile secret; null means no CAPTCHA. */
  captcha: { secret: string | null; afterFailures: number };
  auditRetentionDays: number;
  /** Master secret for signed requests; null: request signing is off. */
  requestSigningSecret: string | null;
  /** API keys live `defaultTtlMs` unless created with an earlier `expires_at`, and never longer than `maxTtlMs`. */
  apiKeys: { defaultTtlMs: number; maxTtlMs: number };
  /**
   * Roles every new user is given with the account (DEFAULT_ROLES). A name
   * that is no row in `roles` is skipped at signup and logged once per isolate.
   */
  defaultRoles: string[];
  corsAllowedOrigins: string[];
  oauth: {
    /**
     * Dynamic client registration (RFC 7591): off, behind an initial access
     * token an admin mints, or open. Default: open in development and tests,
     * off in production.
     */
    registration: "off" | "token" | "open";
    idTokenTtlSeconds: number;
  };
  mail: { transport: RawConfig["MAIL_TRANSPORT"]; from: string; resendApiKey?: string };
  /** Seals TOTP secrets at rest; null: MFA_ENCRYPTION_KEY is not set, and nobody can enrol. */
  mfaKeyring: Keyring | null;
}

const cache = new WeakMap<object, Config>();

/** Parses `env` once per env object; throws ConfigError naming every bad setting. */
export function getConfig(env: object): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const config = parseConfig(env as Record<string, unknown>);
  cache.set(env, config);
  return config;
}

export function parseConfig(env: Record<string, unknown>): Config {
  // Only plain string vars and secrets go through the schema; bindings (DB, KV ...) are objects.
  const strings: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (typeof value === "string") strings[key] = value;
  }
  const result = schema.safeParse(strings);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join(".") || "env"} ${issue.message}`));
  }
  checkKeySet(result.data.JWT_PRIVATE_KEYS.keys);
  return toConfig(result.data);
}

function checkKeySet(keys: PrivateJwk[]): void {
  if (new Set(keys.map((key) => key.kid)).size !== keys.length) {
    throw new ConfigError(["JWT_PRIVATE_KEYS has duplicate kid values"]);
  }
  // Access tokens are ES256: without an EC key nothing could be signed.
  if (!keys.some((key) => key.alg === "ES256"))
    throw new ConfigError(["JWT_PRIVATE_KEYS holds no ES256 (EC P-256) key"]);
}

function toConfig(raw: RawConfig): Config {
  return {
    environment: raw.ENVIRONMENT,
    issuer: raw.ISSUER,
    publicUrl: raw.PUBLIC_URL.replace(/\/+$/, ""),
    accessToken: {
      audience: raw.ACCESS_TOKEN_AUDIENCE,
      ttlSeconds: raw.ACCESS_TOKEN_TTL_SECONDS,
      clientId: raw.ACCESS_TOKEN_CLIENT_ID,
    },
    refreshToken: {
      ttlSeconds: raw.REFRESH_TOKEN_TTL_SECONDS,
      maxAgeSeconds: raw.REFRESH_TOKEN_MAX_AGE_SECONDS,
      reuseGraceSeconds: raw.REFRESH_REUSE_GRACE_SECONDS,
    },
    verificationTokenTtlSeconds: raw.VERIFICATION_TOKEN_TTL_SECONDS,
    passwordResetTokenTtlSeconds: raw.PASSWORD_RESET_TOKEN_TTL_SECONDS,
    requireEmailVerification: raw.REQUIRE_EMAIL_VERIFICATION,
    passwords: {
      iterations: raw.PBKDF2_ITERATIONS,
      pepperId: raw.PASSWORD_PEPPER_ID,
      peppers: { ...(raw.PASSWORD_OLD_PEPPERS ?? {}), [raw.PASSWORD_PEPPER_ID]: raw.PASSWORD_PEPPER },
    },
    passwordPolicy: { minLength: raw.PASSWORD_MIN_LENGTH },
    signingKeys: raw.JWT_PRIVATE_KEYS.keys,
    cookieSessions: {
      idleMs: raw.SESSION_IDLE_SECONDS * 1000,
      absoluteMs: raw.SESSION_ABSOLUTE_SECONDS * 1000,
      rememberMeIdleMs: raw.SESSION_REMEMBER_ME_IDLE_SECONDS * 1000,
      rememberMeAbsoluteMs: raw.SESSION_REMEMBER_ME_SECONDS * 1000,
    },
    rateLimits: {
      windowMs: raw.RATE_LIMIT_WINDOW_SECONDS * 1000,
      perIp: {
        signup: raw.RATE_LIMIT_SIGNUP_PER_IP,
        login: raw.RATE_LIMIT_LOGIN_PER_IP,
        refresh: raw.RATE_LIMIT_REFRESH_PER_IP,
        verifyEmail: raw.RATE_LIMIT_VERIFY_EMAIL_PER_IP,
        passwordReset: raw.RATE_LIMIT_PASSWORD_RESET_PER_IP,
        magicLink: raw.RATE_LIMIT_MAGIC_LINK_PER_IP,
        oauthToken: raw.RATE_LIMIT_OAUTH_TOKEN_PER_IP,
        deviceCode: raw.RATE_LIMIT_DEVICE_CODE_PER_IP,
      },
      mailsPerEmail: raw.RATE_LIMIT_MAILS_PER_EMAIL,
    },
    magicLinks: { signup: raw.MAGIC_LINK_SIGNUP },
    passkeys: {
      rpId: new URL(raw.PUBLIC_URL).hostname,
      rpName: new URL(raw.PUBLIC_URL).host,
      origins: [...new Set([new URL(raw.PUBLIC_URL).origin, ...raw.PASSKEY_EXTRA_ORIGINS])],
    },
    lockout: {
      maxFailures: raw.LOGIN_MAX_FAILURES,
      windowMs: raw.LOGIN_FAILURE_WINDOW_SECONDS * 1000,
      baseLockMs: raw.LOCKOUT_BASE_SECONDS * 1000,
      maxLockMs: raw.LOCKOUT_MAX_SECONDS * 1000,
    },
    captcha: { secret: raw.TURNSTILE_SECRET ?? null, afterFailures: raw.CAPTCHA_AFTER_FAILURES },
    auditRetentionDays: raw.AUDIT_RETENTION_DAYS,
    requestSigningSecret: raw.REQUEST_SIGNING_SECRET ?? null,
    apiKeys: {
      defaultTtlMs: raw.API_KEY_DEFAULT_TTL_DAYS * 86_400_000,
      maxTtlMs: raw.API_KEY_MAX_TTL_DAYS * 86_400_000,
    },
    defaultRoles: raw.DEFAULT_ROLES,
    corsAllowedOrigins: raw.CORS_ALLOWED_ORIGINS,
    oauth: {
      registration: raw.OAUTH_REGISTRATION ?? (raw.ENVIRONMENT === "production" ? "off" : "open"),
      idTokenTtlSeconds: raw.ID_TOKEN_TTL_SECONDS,
    },
    mail: { transport: raw.MAIL_TRANSPORT, from: raw.MAIL_FROM, resendApiKey: raw.RESEND_API_KEY },
    mfaKeyring: raw.MFA_ENCRYPTION_KEY
      ? {
          currentId: raw.MFA_ENCRYPTION_KEY_ID,
          keys: { ...(raw.MFA_OLD_ENCRYPTION_KEYS ?? {}), [raw.MFA_ENCRYPTION_KEY_ID]: raw.MFA_ENCRYPTION_KEY },
        }
      : null,
  };
}
