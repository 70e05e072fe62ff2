// Headers every response carries, CORS from the allowlist, body limits everywhere.
import { describe, expect, it } from "vitest";
import { BODY_LIMIT_BYTES } from "../../src/app/app";
import { BASE, expectError, freshEmail, jsonRequest, PASSWORD, postJson, send, sendWithEnv } from "../helpers";

const cors = { CORS_ALLOWED_ORIGINS: "https://app.example.com, https://admin.example.com" };

function preflight(origin: string): Request {
  return new Request(`${BASE}/auth/login`, {
    method: "OPTIONS",
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": "POST",
      "Access-Control-Request-Headers": "content-type",
    },
  });
}

describe("security headers", () => {
  it.each([
    ["a success", () => send(`${BASE}/.well-known/jwks.json`)],
    ["an error", () => send(`${BASE}/no/such/route`)],
    ["a credential endpoint", () => postJson("/auth/login", { email: freshEmail(), password: PASSWORD })],
  ])("are on %s", async (_, call) => {
    const response = await call();
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(response.headers.get("X-Frame-Options")).toBe("SAMEORIGIN");
    expect(response.headers.get("Strict-Transport-Security")).toMatch(/max-age=\d+/);
    expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(response.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("request ids", () => {
  it("are our own: an inbound X-Request-Id is ignored", async () => {
    const response = await send(new Request(`${BASE}/health`, { headers: { "X-Request-Id": "forged-id-123" } }));
    expect(response.headers.get("X-Request-Id")).not.toBe("forged-id-123");
    expect(response.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("CORS", () => {
  it("answers a preflight from an allowed origin, with credentials", async () => {
    const response = await sendWithEnv(cors, preflight("https://app.example.com"));
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.com");
    expect(response.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    expect(response.headers.get("Access-Control-Allow-Methods")).toContain("POST");
  });

  it("gives any other origin no CORS headers", async () => {
    const response = await sendWithEnv(cors, preflight("https://evil.example.net"));
    expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(response.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    const simple = await sendWithEnv(
      cors,
      new Request(`${BASE}/.well-known/jwks.json`, { headers: { Origin: "https://app.example.com.evil.net" } }),
    );
    expect(simple.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("adds CORS headers to actual responses for allowed origins", async () => {
    const request = new Request(`${BASE}/.well-known/jwks.json`, { headers: { Origin: "https://admin.example.com" } });
    const response = await sendWithEnv(cors, request);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://admin.example.com");
  });

  it("tells caches that answers vary by Origin", async () => {
    const response = await sendWithEnv(cors, new Request(`${BASE}/.well-known/jwks.json`));
    expect(response.headers.get("Vary")).toContain("Origin");
  });

  it("allows no origin at all by default", async () => {
    const response = await send(preflight("https://app.example.com"));
    expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("refuses a wildcard in the allowlist as misconfiguration", async () => {
    const { parseConfig } = await import("../../src/app/config");
    const { env } = await import("cloudflare:workers");
    expect(() => parseConfig({ ...env, CORS_ALLOWED_ORIGINS: "*" })).toThrow(/CORS_ALLOWED_ORIGINS/);
  });
});

describe("body limits", () => {
  it("apply to every route, not only /auth", async () => {
    const big = JSON.stringify({ count: 1, padding: "x".repeat(BODY_LIMIT_BYTES) });
    await expectError(await send(jsonRequest("/_dev/password-hash-cost", big)), 413, "invalid_request");
  });
});

describe("input that is never a 5xx", () => {
  it("reads a malformed CF-Connecting-IP as no address", async () => {
    for (const ip of ["1:2:3:4:5:6:7:8:9::1", "::1::2", "not an address", "192.0.2.1, 10.0.0.1"]) {
      const response = await postJson(
        "/auth/login",
        { email: freshEmail(), password: PASSWORD },
        { "CF-Connecting-IP": ip },
      );
      await expectError(response, 401, "invalid_credentials");
    }
  });

  it("answers a known path with another method 405, with Allow", async () => {
    const response = await send(new Request(`${BASE}/auth/login`, { method: "GET" }));
    await expectError(response, 405, "method_not_allowed");
    expect(response.headers.get("Allow")).toBe("POST");
    const sessions = await send(new Request(`${BASE}/auth/sessions/some-id`, { method: "PUT" }));
    await expectError(sessions, 405, "method_not_allowed");
    expect(sessions.headers.get("Allow")).toBe("DELETE");
    const jwks = await send(new Request(`${BASE}/.well-known/jwks.json`, { method: "POST" }));
    expect(jwks.headers.get("Allow")).toBe("GET, HEAD");
  });

  it("keeps unknown paths 404, and development routes 404 in production whatever the method", async () => {
    await expectError(await send(new Request(`${BASE}/auth/nope`, { method: "DELETE" })), 404, "not_found");
    const production = { ENVIRONMENT: "production", MAIL_TRANSPORT: "log", REQUIRE_EMAIL_VERIFICATION: "false" };
    const dev = await sendWithEnv(production, new Request(`${BASE}/_dev/outbox?to=a@example.com`, { method: "POST" }));
    await expectError(dev, 404, "not_found");
    expect(dev.headers.get("Allow")).toBeNull();
  });
});
