import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { getConfig, parseConfig } from "../../src/app/config";
import { BASE, expectError, jsonRequest, sendWithEnv } from "../helpers";

describe("configuration", () => {
  it("answers 500 server_misconfigured naming a missing secret, and logs it", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const response = await sendWithEnv({ PASSWORD_PEPPER: undefined }, jsonRequest("/auth/login", {}));
      const { error_description } = await expectError(response, 500, "server_misconfigured");
      expect(error_description).toContain("PASSWORD_PEPPER");
      expect(log).toHaveBeenCalledWith(expect.stringContaining("PASSWORD_PEPPER"));
    } finally {
      log.mockRestore();
    }
  });

  it("names a malformed signing key set without echoing it", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const response = await sendWithEnv(
        { JWT_PRIVATE_KEYS: '{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}' },
        new Request(`${BASE}/.well-known/jwks.json`),
      );
      const { error_description } = await expectError(response, 500, "server_misconfigured");
      expect(error_description).toContain("JWT_PRIVATE_KEYS");
      expect(error_description).not.toContain("c2VjcmV0");
      const invalidJson = await sendWithEnv(
        { JWT_PRIVATE_KEYS: "{not json" },
        new Request(`${BASE}/.well-known/jwks.json`),
      );
      await expectError(invalidJson, 500, "server_misconfigured");
    } finally {
      log.mockRestore();
    }
  });

  it("keeps /health answering even when misconfigured", async () => {
    const response = await sendWithEnv({ JWT_PRIVATE_KEYS: undefined }, new Request(`${BASE}/health`));
    expect(response.status).toBe(200);
  });

  it("refuses a short pepper, a bad number and the outbox transport in production", () => {
    expect(() => parseConfig({ ...env, PASSWORD_PEPPER: "too-short" })).toThrow(/PASSWORD_PEPPER/);
    expect(() => parseConfig({ ...env, ACCESS_TOKEN_TTL_SECONDS: "ten minutes" })).toThrow(/ACCESS_TOKEN_TTL_SECONDS/);
    expect(() => parseConfig({ ...env, ENVIRONMENT: "production", MAIL_TRANSPORT: "outbox" })).toThrow(
      /MAIL_TRANSPORT/,
    );
    expect(() => parseConfig({ ...env, MAIL_TRANSPORT: "resend" })).toThrow(/RESEND_API_KEY/);
    expect(() => parseConfig({ ...env, REQUEST_SIGNING_SECRET: "short" })).toThrow(/REQUEST_SIGNING_SECRET/);
    // Verification links must be delivered in production; logging them would leak credentials.
    expect(() => parseConfig({ ...env, ENVIRONMENT: "production", MAIL_TRANSPORT: "log" })).toThrow(/MAIL_TRANSPORT/);
    const quiet = { ...env, ENVIRONMENT: "production", MAIL_TRANSPORT: "log", REQUIRE_EMAIL_VERIFICATION: "false" };
    expect(parseConfig(quiet).mail.transport).toBe("log");
  });

  it("defaults to 15-character passwords and 7-day idle, 30-day absolute refresh sessions", () => {
    const { PASSWORD_MIN_LENGTH, REFRESH_TOKEN_TTL_SECONDS, REFRESH_TOKEN_MAX_AGE_SECONDS, ...unset } =
      env as unknown as Record<string, unknown>;
    const config = parseConfig(unset);
    expect(config.passwordPolicy.minLength).toBe(15);
    expect(config.refreshToken).toMatchObject({ ttlSeconds: 7 * 86_400, maxAgeSeconds: 30 * 86_400 });
    expect(() => parseConfig({ ...unset, PASSWORD_MIN_LENGTH: "7" })).toThrow(/PASSWORD_MIN_LENGTH/);
  });

  it("reads the environment once per env object", () => {
    expect(getConfig(env)).toBe(getConfig(env));
    expect(getConfig(env).accessToken).toEqual({ audience: "https://api.test", ttlSeconds: 600, clientId: "edgelock" });
  });
});

describe("unexpected errors", () => {
  it("answer 500 server_error with no internals in the body", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const broken = {
        prepare() {
          throw new Error("D1_ERROR: secret internal detail at storage/users.ts:42");
        },
      };
      const response = await sendWithEnv(
        { DB: broken },
        jsonRequest("/auth/login", { email: "a@example.com", password: "whatever password" }),
      );
      const body = await expectError(response, 500, "server_error");
      expect(JSON.stringify(body)).not.toMatch(/D1_ERROR|storage|\.ts/);
      expect(log).toHaveBeenCalledWith(expect.stringContaining("D1_ERROR"));
    } finally {
      log.mockRestore();
    }
  });
});
