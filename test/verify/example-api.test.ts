// The example API Worker (examples/api-worker), running beside the auth Worker
// as an auxiliary Worker with service bindings to it (vitest.config.ts).
import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { base64url, utf8Bytes } from "../../src/lib/crypto/encoding";
import { BASE, bearer, newSession, send } from "../helpers";

const signingJwk = (JSON.parse(env.JWT_PRIVATE_KEYS) as { keys: (JWK & { kid: string })[] }).keys[0] as JWK & {
  kid: string;
};

function api(path: string, token?: string): Promise<Response> {
  return env.EXAMPLE_API.fetch(new Request(`https://api.test${path}`, { headers: token ? bearer(token) : {} }));
}

/** A token signed with the auth server's own key, so only the claim under test is wrong. */
async function forge(sub: string, claims: { aud?: string; expOffset?: number }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: signingJwk.kid })
    .setIssuer("https://auth.test")
    .setAudience(claims.aud ?? "https://api.test")
    .setSubject(sub)
    .setIssuedAt(now - 700)
    .setExpirationTime(now + (claims.expOffset ?? 600))
    .sign(await importJWK(signingJwk, "ES256"));
}

const ROUTES = ["/jwks/me", "/signature-only/me", "/rpc/me"];

describe("example API Worker", () => {
  it("serves its public route", async () => {
    expect(await (await api("/public")).json()).toEqual({ hello: "world" });
  });

  it.each(ROUTES)("accepts a valid token on %s", async (path) => {
    const session = await newSession();
    const response = await api(path, session.access_token);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sub: session.user.id });
  });

  it.each(ROUTES)("refuses a missing token on %s with a bare challenge", async (path) => {
    const response = await api(path);
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="api"');
  });

  it.each(ROUTES)("refuses an expired token on %s, saying it expired", async (path) => {
    const session = await newSession();
    const response = await api(path, await forge(session.user.id, { expOffset: -60 }));
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');
    expect(((await response.json()) as { error_description: string }).error_description).toMatch(/expired/);
  });

  it.each(ROUTES)("refuses a tampered token on %s", async (path) => {
    const session = await newSession();
    const [h, p, s] = session.access_token.split(".") as [string, string, string];
    const claims = JSON.parse(atob(p.replace(/-/g, "+").replace(/_/g, "/")));
    const tampered = `${h}.${base64url(utf8Bytes(JSON.stringify({ ...claims, sub: "someone-else" })))}.${s}`;
    expect((await api(path, tampered)).status).toBe(401);
  });

  it.each(ROUTES)("refuses a token for another audience on %s", async (path) => {
    const session = await newSession();
    const response = await api(path, await forge(session.user.id, { aud: "https://other-api.test" }));
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error_description: string }).error_description).toMatch(
      /not for this|invalid/,
    );
  });

  it.each(["/jwks/me", "/rpc/me"])("refuses a revoked token on %s, saying it was revoked", async (path) => {
    const session = await newSession();
    await send(new Request(`${BASE}/auth/logout`, { method: "POST", headers: bearer(session.access_token) }));
    const response = await api(path, session.access_token);
    expect(response.status).toBe(401);
    const body = (await response.json()) as { error: string; error_description: string };
    expect(body.error).toBe("invalid_token");
    expect(body.error_description).toMatch(/revoked/);
  });

  it("still accepts a revoked token on the signature-only route, until it expires (the documented trade-off)", async () => {
    const session = await newSession();
    await send(new Request(`${BASE}/auth/logout`, { method: "POST", headers: bearer(session.access_token) }));
    expect((await api("/signature-only/me", session.access_token)).status).toBe(200);
  });

  it("picks up a signing key rotated in while it runs, without a restart", async () => {
    const session = await newSession();
    // Warm the example's JWKS cache with today's keys.
    expect((await api("/jwks/me", session.access_token)).status).toBe(200);
    // A new signing key is published (as edgelock does when a key is put first in
    // JWT_PRIVATE_KEYS), and tokens signed with it start arriving.
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const kid = `rotated-${crypto.randomUUID()}`;
    const published = await env.JWKS_PROXY.fetch("https://jwks-proxy/_test/keys", {
      method: "POST",
      body: JSON.stringify({ ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" }),
    });
    expect(published.status).toBe(204);
    const now = Math.floor(Date.now() / 1000);
    const rotated = await new SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid })
      .setIssuer("https://auth.test")
      .setAudience("https://api.test")
      .setSubject(session.user.id)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(privateKey);
    const response = await api("/jwks/me", rotated);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sub: session.user.id });
    // Tokens signed by the old key keep working.
    expect((await api("/jwks/me", session.access_token)).status).toBe(200);
  });

  it("answers 403 insufficient_scope when the token lacks a permission", async () => {
    const session = await newSession();
    const response = await api("/jwks/admin", session.access_token);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: "insufficient_scope" });
    expect(response.headers.get("WWW-Authenticate")).toContain('error="insufficient_scope"');
  });
});
