import { env } from "cloudflare:workers";
import { createLocalJWKSet, decodeProtectedHeader, importJWK, type JWK, jwtVerify, SignJWT } from "jose";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { base64url, utf8Bytes } from "../../src/lib/crypto/encoding";
import {
  BASE,
  bearer,
  expectError,
  jsonRequest,
  newSession,
  PASSWORD,
  send,
  sendWithEnv,
  signupAndVerify,
} from "../helpers";

const signingJwk = (JSON.parse(env.JWT_PRIVATE_KEYS) as { keys: (JWK & { kid: string })[] }).keys[0] as JWK & {
  kid: string;
};

function me(accessToken: string, url = `${BASE}/auth/me`): Promise<Response> {
  return send(new Request(url, { headers: bearer(accessToken) }));
}

async function jwks(): Promise<{ keys: JWK[] }> {
  const response = await send(`${BASE}/.well-known/jwks.json`);
  expect(response.status).toBe(200);
  return response.json();
}

/** Signs with the server's own private key, so only the claim or header under test is wrong. */
async function forge(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
  ttlSeconds = 600,
): Promise<string> {
  const key = await importJWK(signingJwk, "ES256");
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: crypto.randomUUID(), ...claims })
    .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: signingJwk.kid, ...header })
    .setIssuedAt(now - 10)
    .setExpirationTime(now + ttlSeconds)
    .sign(key);
}

describe("GET /.well-known/jwks.json", () => {
  it("publishes public keys with kid, alg and use, cacheably, without private members", async () => {
    const response = await send(`${BASE}/.well-known/jwks.json`);
    expect(response.headers.get("Cache-Control")).toMatch(/max-age=\d+/);
    const { keys } = (await response.json()) as { keys: JWK[] };
    // The EC key signs access tokens; the RSA key signs OpenID Connect ID tokens.
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatchObject({ kid: signingJwk.kid, alg: "ES256", use: "sig", kty: "EC", crv: "P-256" });
    expect(keys[1]).toMatchObject({ alg: "RS256", use: "sig", kty: "RSA", e: "AQAB" });
    for (const key of keys) {
      for (const member of ["d", "p", "q", "dp", "dq", "qi"]) expect(key).not.toHaveProperty(member);
    }
  });

  it("publishes every key of the set, and only the first one signs", async () => {
    const { keys } = JSON.parse(env.JWT_PRIVATE_KEYS) as { keys: JWK[] };
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const next = { ...((await crypto.subtle.exportKey("jwk", pair.privateKey)) as JWK), kid: "next", alg: "ES256" };
    const rotated = { JWT_PRIVATE_KEYS: JSON.stringify({ keys: [next, ...keys] }) };
    const published = (await (await sendWithEnv(rotated, new Request(`${BASE}/.well-known/jwks.json`))).json()) as {
      keys: JWK[];
    };
    expect(published.keys.map((k) => k.kid)).toEqual(["next", ...keys.map((k) => k.kid)]);
    // A token signed by the old key before the rotation still verifies after it.
    const session = await newSession();
    const response = await sendWithEnv(
      rotated,
      new Request(`${BASE}/auth/me`, { headers: bearer(session.access_token) }),
    );
    expect(response.status).toBe(200);
  });
});

describe("access tokens", () => {
  it("are RFC 9068 JWTs that verify with jose against the published JWKS", async () => {
    const session = await newSession();
    const header = decodeProtectedHeader(session.access_token);
    expect(header).toEqual({ alg: "ES256", typ: "at+jwt", kid: signingJwk.kid });
    const { payload } = await jwtVerify(session.access_token, createLocalJWKSet(await jwks()), {
      algorithms: ["ES256"],
      typ: "at+jwt",
      issuer: "https://auth.test",
      audience: "https://api.test",
    });
    expect(payload.sub).toBe(session.user.id);
    expect(payload.exp).toBe((payload.iat ?? 0) + 600);
    expect(typeof payload.jti).toBe("string");
    expect(typeof payload.sid).toBe("string");
    expect(payload.client_id).toBe("edgelock"); // RFC 9068 §2.2
  });

  it("GET /auth/me answers the user for a valid token", async () => {
    const session = await newSession();
    const response = await me(session.access_token);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ user: session.user });
  });

  it("refuses a missing token with a bare Bearer challenge (RFC 6750 §3.1)", async () => {
    const response = await send(`${BASE}/auth/me`);
    await expectError(response, 401, "invalid_token");
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="edgelock"');
  });

  it("refuses a token in the query string even when it is valid", async () => {
    const session = await newSession();
    const response = await send(`${BASE}/auth/me?access_token=${session.access_token}`);
    await expectError(response, 400, "invalid_request");
    expect(response.headers.get("WWW-Authenticate")).toContain('error="invalid_request"');
    const both = await me(session.access_token, `${BASE}/auth/me?access_token=${session.access_token}`);
    await expectError(both, 400, "invalid_request");
  });

  it("refuses a tampered token", async () => {
    const session = await newSession();
    const [h, p, s] = session.access_token.split(".") as [string, string, string];
    const claims = JSON.parse(atob(p.replace(/-/g, "+").replace(/_/g, "/")));
    const tampered = `${h}.${base64url(utf8Bytes(JSON.stringify({ ...claims, sub: "someone-else" })))}.${s}`;
    const response = await me(tampered);
    await expectError(response, 401, "invalid_token");
    expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer realm="edgelock", error="invalid_token"/);
  });

  it("refuses an expired token (beyond the 30 s clock skew)", async () => {
    const session = await newSession();
    const key = await importJWK(signingJwk, "ES256");
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ jti: crypto.randomUUID(), client_id: "edgelock" })
      .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: signingJwk.kid })
      .setIssuer("https://auth.test")
      .setAudience("https://api.test")
      .setSubject(session.user.id)
      .setIssuedAt(now - 700)
      .setExpirationTime(now - 31)
      .sign(key);
    await expectError(await me(expired), 401, "invalid_token");
    const withinSkew = await forge(
      { iss: "https://auth.test", aud: "https://api.test", sub: session.user.id, client_id: "edgelock" },
      {},
      -20,
    );
    expect((await me(withinSkew)).status).toBe(200);
  });

  it('refuses alg "none"', async () => {
    const session = await newSession();
    const [, p] = session.access_token.split(".") as [string, string];
    const header = base64url(utf8Bytes(JSON.stringify({ alg: "none", typ: "at+jwt", kid: signingJwk.kid })));
    await expectError(await me(`${header}.${p}.`), 401, "invalid_token");
  });

  it("refuses HS256 signed with the public key (algorithm confusion)", async () => {
    const session = await newSession();
    const publicJwk = (await jwks()).keys[0];
    const secret = utf8Bytes(JSON.stringify(publicJwk));
    const [, p] = session.access_token.split(".") as [string, string];
    const header = base64url(utf8Bytes(JSON.stringify({ alg: "HS256", typ: "at+jwt", kid: signingJwk.kid })));
    const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8Bytes(`${header}.${p}`)));
    await expectError(await me(`${header}.${p}.${base64url(signature)}`), 401, "invalid_token");
  });

  it("refuses a wrong issuer, a wrong audience, a wrong typ and an unknown kid", async () => {
    const session = await newSession();
    const good = { iss: "https://auth.test", aud: "https://api.test", sub: session.user.id, client_id: "edgelock" };
    expect((await me(await forge(good))).status).toBe(200);
    await expectError(await me(await forge({ ...good, iss: "https://evil.test" })), 401, "invalid_token");
    await expectError(await me(await forge({ ...good, aud: "https://other-api.test" })), 401, "invalid_token");
    await expectError(await me(await forge(good, { typ: "JWT" })), 401, "invalid_token");
    await expectError(await me(await forge(good, { kid: "unknown" })), 401, "invalid_token");
    await expectError(await me(await forge({ ...good, jti: undefined })), 401, "invalid_token");
  });

  it("refuses garbage and a non-Bearer scheme", async () => {
    await expectError(await me("not.a.jwt"), 401, "invalid_token");
    const basic = await send(new Request(`${BASE}/auth/me`, { headers: { Authorization: "Basic dXNlcjpwYXNz" } }));
    await expectError(basic, 401, "invalid_token");
    // No Bearer credentials at all: the bare challenge of RFC 6750 §3.1.
    expect(basic.headers.get("WWW-Authenticate")).toBe('Bearer realm="edgelock"');
  });
});

describe("signing keys by algorithm", () => {
  async function rsaJwk(kid: string, bits = 2048): Promise<JWK> {
    const pair = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    return { ...((await crypto.subtle.exportKey("jwk", pair.privateKey)) as JWK), kid, alg: "RS256" };
  }

  it("publishes an RSA key's public half as RS256, and still signs access tokens with the EC key", async () => {
    const { keys } = JSON.parse(env.JWT_PRIVATE_KEYS) as { keys: JWK[] };
    // First in the set, yet access tokens are ES256: the first key *of each algorithm* signs.
    const withRsa = { JWT_PRIVATE_KEYS: JSON.stringify({ keys: [await rsaJwk("rsa-1"), ...keys] }) };
    const published = (await (await sendWithEnv(withRsa, new Request(`${BASE}/.well-known/jwks.json`))).json()) as {
      keys: JWK[];
    };
    const rsa = published.keys.find((k) => k.kid === "rsa-1");
    expect(rsa).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig" });
    for (const member of ["d", "p", "q", "dp", "dq", "qi"]) expect(rsa).not.toHaveProperty(member);
    const email = await signupAndVerify();
    const response = await sendWithEnv(withRsa, jsonRequest("/auth/login", { email, password: PASSWORD }));
    expect(response.status).toBe(200);
    const { access_token } = (await response.json()) as { access_token: string };
    expect(decodeProtectedHeader(access_token)).toMatchObject({ alg: "ES256", kid: signingJwk.kid });
    // And it verifies against the mixed set the server publishes.
    const me = await sendWithEnv(withRsa, new Request(`${BASE}/auth/me`, { headers: bearer(access_token) }));
    expect(me.status).toBe(200);
  });

  it("refuses a key set without an EC key, and an RSA key under 2048 bits", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    onTestFinished(() => log.mockRestore());
    const onlyRsa = { JWT_PRIVATE_KEYS: JSON.stringify({ keys: [await rsaJwk("rsa-only")] }) };
    const noEc = await expectError(
      await sendWithEnv(onlyRsa, new Request(`${BASE}/.well-known/jwks.json`)),
      500,
      "server_misconfigured",
    );
    expect(noEc.error_description).toContain("JWT_PRIVATE_KEYS");
    const { keys } = JSON.parse(env.JWT_PRIVATE_KEYS) as { keys: JWK[] };
    const shortRsa = { JWT_PRIVATE_KEYS: JSON.stringify({ keys: [...keys, await rsaJwk("rsa-short", 1024)] }) };
    await expectError(
      await sendWithEnv(shortRsa, new Request(`${BASE}/.well-known/jwks.json`)),
      500,
      "server_misconfigured",
    );
  });
});

describe("TokenIssuer", () => {
  it("issues for a client principal: sub is the client, with its audience and scope, and no session", async () => {
    const { getConfig } = await import("../../src/app/config");
    const { getSigningKeys } = await import("../../src/tokens/signing-keys");
    const { TokenIssuer } = await import("../../src/tokens/issuer");
    const config = getConfig(env);
    const keys = getSigningKeys(config.signingKeys);
    const issuer = new TokenIssuer({ keys, defaults: { issuer: config.issuer, ...config.accessToken } });
    const now = Date.now();
    const issued = await issuer.issueAccessToken(
      { principal: { type: "client", id: "svc-1" }, clientId: "svc-1", audience: "https://reports.test", scope: "a b" },
      now,
    );
    const { payload, protectedHeader } = await jwtVerify(issued.token, createLocalJWKSet(keys.publicJwks), {
      issuer: config.issuer,
      audience: "https://reports.test",
      typ: "at+jwt",
      algorithms: ["ES256"],
    });
    expect(protectedHeader.kid).toBe(signingJwk.kid);
    expect(payload).toMatchObject({ sub: "svc-1", client_id: "svc-1", scope: "a b", jti: issued.jti });
    expect(payload).not.toHaveProperty("sid");
    expect(payload).not.toHaveProperty("amr");
    expect(payload.exp).toBe((payload.iat as number) + config.accessToken.ttlSeconds);
  });
});
