import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { READINESS_TIMEOUT_MS } from "../../src/app/readiness";
import { BASE, sendWithEnv } from "../helpers";

const CHECKS = [
  "config",
  "d1",
  "kv_tokens",
  "kv_revocations",
  "durable_object_rate_limiter",
  "durable_object_nonce_store",
];

interface ReadyBody {
  status: string;
  checks: Record<string, { status: string; ms: number }>;
}

async function readyWith(
  overrides: Record<string, unknown>,
): Promise<{ response: Response; body: ReadyBody; text: string }> {
  const response = await sendWithEnv(overrides, new Request(`${BASE}/ready`));
  const text = await response.text();
  return { response, body: JSON.parse(text), text };
}

afterEach(() => vi.restoreAllMocks());

describe("GET /ready", () => {
  it("answers 200 with every check ok and timed", async () => {
    const response = await exports.default.fetch(`${BASE}/ready`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const body = (await response.json()) as ReadyBody;
    expect(body.status).toBe("ready");
    expect(Object.keys(body.checks).sort()).toEqual([...CHECKS].sort());
    for (const check of Object.values(body.checks)) {
      expect(check.status).toBe("ok");
      expect(check.ms).toBeGreaterThanOrEqual(0);
    }
  });

  it("answers 503 for a missing secret, naming neither the setting nor its value; the log names it", async () => {
    const logs = vi.spyOn(console, "error").mockImplementation(() => {});
    const { response, body, text } = await readyWith({ JWT_PRIVATE_KEYS: undefined });
    expect(response.status).toBe(503);
    expect(body.status).toBe("not_ready");
    expect(body.checks.config?.status).toBe("failed");
    expect(body.checks.d1?.status).toBe("ok");
    expect(text).not.toContain("JWT_PRIVATE_KEYS");
    expect(JSON.stringify(logs.mock.calls)).toContain("JWT_PRIVATE_KEYS");
  });

  it("never echoes a secret it could not parse", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const secret = "sekrit-pepper-value-0123456789";
    const { response, text } = await readyWith({ PASSWORD_PEPPER: secret, JWT_PRIVATE_KEYS: `{"keys":"${secret}"}` });
    expect(response.status).toBe(503);
    expect(text).not.toContain(secret);
    expect(text).not.toMatch(/pepper|error_description/i);
  });

  it("answers 503 when a binding fails, with no error detail for the caller", async () => {
    const logs = vi.spyOn(console, "error").mockImplementation(() => {});
    const broken = {
      get: async () => {
        throw new Error("KV internal detail: namespace 1234 unreachable");
      },
    };
    const brokenDb = {
      prepare: () => {
        throw new Error("D1_ERROR: no such table: users");
      },
    };
    const { response, body, text } = await readyWith({ REVOCATIONS: broken, DB: brokenDb });
    expect(response.status).toBe(503);
    expect(body.checks.kv_revocations?.status).toBe("failed");
    expect(body.checks.d1?.status).toBe("failed");
    expect(body.checks.kv_tokens?.status).toBe("ok");
    expect(body.checks.config?.status).toBe("ok");
    expect(text).not.toMatch(/internal detail|D1_ERROR|no such table/);
    const logged = JSON.stringify(logs.mock.calls);
    expect(logged).toContain("kv_revocations");
    expect(logged).toContain("no such table");
  });

  it("counts a binding that does not answer in time as failed", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const hanging = { get: () => new Promise(() => {}) };
    const { response, body } = await readyWith({ TOKENS: hanging });
    expect(response.status).toBe(503);
    expect(body.checks.kv_tokens?.status).toBe("failed");
    expect(body.checks.kv_tokens?.ms).toBeGreaterThanOrEqual(READINESS_TIMEOUT_MS - 50);
  });

  it("answers 503 when a Durable Object binding is missing", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { response, body } = await readyWith({ NONCES: undefined });
    expect(response.status).toBe(503);
    expect(body.checks.durable_object_nonce_store?.status).toBe("failed");
    expect(body.checks.durable_object_rate_limiter?.status).toBe("ok");
  });

  it("leaves /health a liveness check, whatever the configuration", async () => {
    const response = await sendWithEnv({ JWT_PRIVATE_KEYS: undefined }, new Request(`${BASE}/health`));
    expect(response.status).toBe(200);
    expect(env.DB).toBeDefined();
  });
});
