// requireAuth / requireScope / requirePermission on a Hono app of their own.
import { Hono } from "hono";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import {
  type AuthVariables,
  createVerifier,
  hasPermission,
  requireAuth,
  requireAuthentication,
  requirePermission,
  requireScope,
} from "../../src/verify";

const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" } as JWK;
const verifier = createVerifier({ issuer: "https://issuer.test", audience: "https://api.test", jwks: { keys: [jwk] } });

function token(claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: crypto.randomUUID(), sub: "u1", ...claims })
    .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: "k1" })
    .setIssuer("https://issuer.test")
    .setAudience("https://api.test")
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(privateKey);
}

const app = new Hono<{ Variables: AuthVariables }>()
  .use("/api/*", requireAuth({ verifier }))
  .get("/api/me", (c) => c.json({ sub: c.var.auth.sub }))
  .get("/api/write", requireScope("posts:write"), (c) => c.json({ ok: true }))
  .get("/api/delete", requirePermission("posts:delete"), (c) => c.json({ ok: true }))
  .get("/api/payout", requireAuthentication({ amr: ["mfa"], maxAge: 300 }), (c) => c.json({ ok: true }));

function call(path: string, bearerToken?: string, url = `https://api.test${path}`): Promise<Response> {
  return Promise.resolve(app.request(url, { headers: bearerToken ? { Authorization: `Bearer ${bearerToken}` } : {} }));
}

describe("verify middleware", () => {
  it("sets c.var.auth for a valid token", async () => {
    const response = await call("/api/me", await token({}));
    expect(await response.json()).toEqual({ sub: "u1" });
  });

  it("answers 401 with an RFC 6750 challenge, and never reads a query-string token", async () => {
    const missing = await call("/api/me");
    expect(missing.status).toBe(401);
    expect(missing.headers.get("WWW-Authenticate")).toBe('Bearer realm="api"');
    const inQuery = await call("/api/me", undefined, `https://api.test/api/me?access_token=${await token({})}`);
    expect(inQuery.status).toBe(401);
    const bad = await call("/api/me", "not.a.token");
    expect(bad.headers.get("WWW-Authenticate")).toMatch(/^Bearer realm="api", error="invalid_token"/);
  });

  it("requireScope: 403 insufficient_scope without the scope, 200 with it", async () => {
    expect((await call("/api/write", await token({ scope: "posts:read" }))).status).toBe(403);
    expect((await call("/api/write", await token({ scope: "posts:read posts:write" }))).status).toBe(200);
  });

  it("requirePermission: exact and wildcard permissions", async () => {
    const denied = await call("/api/delete", await token({ permissions: ["posts:read"] }));
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error: "insufficient_scope" });
    expect((await call("/api/delete", await token({ permissions: ["posts:delete"] }))).status).toBe(200);
    expect((await call("/api/delete", await token({ permissions: ["posts:*"] }))).status).toBe(200);
  });

  it("requireAuthentication: 401 insufficient_user_authentication (RFC 9470) for a weak or old login", async () => {
    const now = Math.floor(Date.now() / 1000);
    const passwordOnly = await call("/api/payout", await token({ amr: ["pwd"], auth_time: now }));
    expect(passwordOnly.status).toBe(401);
    expect(await passwordOnly.json()).toMatchObject({ error: "insufficient_user_authentication" });
    expect(passwordOnly.headers.get("WWW-Authenticate")).toBe(
      'Bearer error="insufficient_user_authentication", error_description="this request needs a login with mfa", max_age=300',
    );
    const stale = await call("/api/payout", await token({ amr: ["pwd", "otp", "mfa"], auth_time: now - 301 }));
    expect(stale.status).toBe(401);
    expect(stale.headers.get("WWW-Authenticate")).toContain("needs a more recent login");
    // A machine token says nothing about a user's login, so it never satisfies a requirement.
    expect((await call("/api/payout", await token({}))).status).toBe(401);
    const fresh = await call("/api/payout", await token({ amr: ["pwd", "otp", "mfa"], auth_time: now - 10 }));
    expect(fresh.status).toBe(200);

    // The same options on requireAuth itself.
    const strict = new Hono<{ Variables: AuthVariables }>()
      .use("*", requireAuth({ verifier, amr: ["otp"], maxAge: 60 }))
      .get("/", (c) => c.text("ok"));
    const ask = async (claims: Record<string, unknown>) =>
      strict.request("https://api.test/", { headers: { Authorization: `Bearer ${await token(claims)}` } });
    const denied = await ask({ amr: ["pwd"], auth_time: now });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("WWW-Authenticate")).toContain('error="insufficient_user_authentication"');
    expect((await ask({ amr: ["pwd", "otp", "mfa"], auth_time: now })).status).toBe(200);
  });

  it("answers 503, not 401, when the keys cannot be fetched (the token may be fine)", async () => {
    const down = createVerifier({
      issuer: "https://issuer.test",
      audience: "https://api.test",
      jwks: `https://issuer.test/${crypto.randomUUID()}`,
      fetcher: { fetch: async () => new Response("down", { status: 503 }) },
    });
    const outage = new Hono<{ Variables: AuthVariables }>()
      .use("*", requireAuth({ verifier: down }))
      .get("/", (c) => c.text("ok"));
    const response = await outage.request("https://api.test/", {
      headers: { Authorization: `Bearer ${await token({})}` },
    });
    expect(response.status).toBe(503);
    expect(response.headers.get("WWW-Authenticate")).toBeNull();
    expect(await response.json()).toMatchObject({ error: "temporarily_unavailable" });
  });

  it("hasPermission does not let a wildcard cross resources", () => {
    const claims = { permissions: ["posts:*"] } as Parameters<typeof hasPermission>[0];
    expect(hasPermission(claims, "posts:write")).toBe(true);
    expect(hasPermission(claims, "users:write")).toBe(false);
    expect(hasPermission(claims, "postsx:write")).toBe(false);
  });
});
