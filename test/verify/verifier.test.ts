// The edge verifier (src/verify) on its own: typed errors, pinned algorithms,
// the JWKS cache (rotation, cooldown, max-age), revocation at the edge.
import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { RevocationWriter } from "../../src/sessions/revocation-store";
import { VerifyError } from "../../src/verify/errors";
import { UNKNOWN_KID_COOLDOWN_MS } from "../../src/verify/jwks-cache";
import { createVerifier } from "../../src/verify/verifier";

const ISSUER = "https://issuer.test";
const AUDIENCE = "https://api.test";

async function keyPair(kid: string, alg: "ES256" | "EdDSA" = "ES256") {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } as JWK;
  return { privateKey, jwk, kid, alg };
}

type Pair = Awaited<ReturnType<typeof keyPair>>;

function sign(
  pair: Pair,
  claims: Record<string, unknown> = {},
  options: { typ?: string; expiresIn?: number; issuedAgo?: number } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: crypto.randomUUID(), ...claims })
    .setProtectedHeader({ alg: pair.alg, typ: options.typ ?? "at+jwt", kid: pair.kid })
    .setIssuer(String(claims.iss ?? ISSUER))
    .setAudience(String(claims.aud ?? AUDIENCE))
    .setSubject(String(claims.sub ?? "user-1"))
    .setIssuedAt(now - (options.issuedAgo ?? 0))
    .setExpirationTime(now + (options.expiresIn ?? 600))
    .sign(pair.privateKey);
}

/** A JWKS endpoint we control: counts fetches, serves whatever `keys` holds now (or fails when `down`). */
function jwksServer(initial: JWK[], cacheControl = "public, max-age=300") {
  const state = { keys: initial as unknown, fetches: 0, down: false };
  const fetcher = {
    fetch: async () => {
      state.fetches++;
      if (state.down) return new Response("down", { status: 503 });
      return Response.json({ keys: state.keys }, { headers: { "Cache-Control": cacheControl } });
    },
  };
  // A unique URL per server, so the Cache API never serves one test's JWKS to another.
  return { state, fetcher, url: `https://issuer.test/jwks/${crypto.randomUUID()}.json` };
}

/** A verifier over a JWKS server of ours, optionally on an injected clock. */
function remoteVerifier(server: ReturnType<typeof jwksServer>, clock?: () => number) {
  return createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: server.url, fetcher: server.fetcher, clock });
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    if (error instanceof VerifyError) return error.code;
    throw error;
  }
}

describe("createVerifier", () => {
  it("verifies ES256 and EdDSA tokens and returns typed claims", async () => {
    for (const alg of ["ES256", "EdDSA"] as const) {
      const pair = await keyPair(`k-${alg}`, alg);
      const verifier = createVerifier({
        issuer: ISSUER,
        audience: AUDIENCE,
        jwks: { keys: [pair.jwk] },
        algorithms: [alg],
      });
      const claims = await verifier.verify(await sign(pair, { sub: "user-42", sid: "s1" }));
      expect(claims).toMatchObject({ sub: "user-42", iss: ISSUER, aud: AUDIENCE, sid: "s1" });
    }
  });

  it("refuses a token issued in the future beyond the clock tolerance", async () => {
    const pair = await keyPair("k1");
    const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [pair.jwk] } });
    expect(await codeOf(verifier.verify(await sign(pair, {}, { issuedAgo: -25 })))).toBe("ok");
    expect(await codeOf(verifier.verify(await sign(pair, {}, { issuedAgo: -120, expiresIn: 900 })))).toBe(
      "invalid_token",
    );
  });

  it("refuses tokens older than maxTokenAgeSeconds, whatever their exp", async () => {
    const pair = await keyPair("k1");
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks: { keys: [pair.jwk] },
      maxTokenAgeSeconds: 300,
    });
    expect(await codeOf(verifier.verify(await sign(pair, {}, { issuedAgo: 200 })))).toBe("ok");
    expect(await codeOf(verifier.verify(await sign(pair, {}, { issuedAgo: 400, expiresIn: 3600 })))).toBe(
      "token_expired",
    );
  });

  it("refuses symmetric algorithms and 'none' when it is created", () => {
    for (const algorithms of [["HS256"], ["none"], [], ["ES256", "HS512"]]) {
      expect(() => createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [] }, algorithms })).toThrow(
        TypeError,
      );
    }
  });

  it("answers each failure with its code", async () => {
    const pair = await keyPair("k1");
    const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [pair.jwk] } });
    const good = await sign(pair);
    expect(await codeOf(verifier.verify(good))).toBe("ok");
    expect(await codeOf(verifier.verify(await sign(pair, {}, { expiresIn: -60 })))).toBe("token_expired");
    expect(await codeOf(verifier.verify(await sign(pair, { aud: "https://other.test" })))).toBe("invalid_audience");
    expect(await codeOf(verifier.verify(await sign(pair, { iss: "https://evil.test" })))).toBe("invalid_issuer");
    expect(await codeOf(verifier.verify(await sign(pair, {}, { typ: "JWT" })))).toBe("invalid_token");
    expect(await codeOf(verifier.verify(`${good.slice(0, -4)}AAAA`))).toBe("invalid_token");
    expect(await codeOf(verifier.verify("garbage"))).toBe("invalid_token");
    // Same key, but an algorithm the verifier was not told to accept.
    const ed = await keyPair("k1", "EdDSA");
    expect(await codeOf(verifier.verify(await sign(ed)))).toBe("invalid_token");
  });

  it("caps the clock tolerance at 30 s", async () => {
    const pair = await keyPair("k1");
    const lenient = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks: { keys: [pair.jwk] },
      clockTolerance: 3600,
    });
    expect(await codeOf(lenient.verify(await sign(pair, {}, { expiresIn: -20 })))).toBe("ok");
    expect(await codeOf(lenient.verify(await sign(pair, {}, { expiresIn: -40 })))).toBe("token_expired");
  });
});

describe("JWKS over HTTP", () => {
  it("fetches once and serves later verifications from the cache", async () => {
    const pair = await keyPair("k1");
    const server = jwksServer([pair.jwk]);
    const verifier = remoteVerifier(server);
    const token = await sign(pair);
    await Promise.all([verifier.verify(token), verifier.verify(token), verifier.verify(token)]);
    await verifier.verify(token);
    expect(server.state.fetches).toBe(1);
  });

  it("picks up a rotated-in signing key without a restart", async () => {
    const old = await keyPair("old");
    const server = jwksServer([old.jwk]);
    const verifier = remoteVerifier(server);
    await verifier.verify(await sign(old));
    const next = await keyPair("next");
    server.state.keys = [next.jwk, old.jwk];
    expect((await verifier.verify(await sign(next))).sub).toBe("user-1");
    expect(await codeOf(verifier.verify(await sign(old)))).toBe("ok");
    expect(server.state.fetches).toBe(2);
  });

  it("refetches for unknown kids at most once per cooldown, so forged kids cannot storm the JWKS endpoint", async () => {
    const pair = await keyPair("k1");
    const server = jwksServer([pair.jwk]);
    const verifier = remoteVerifier(server);
    await verifier.verify(await sign(pair));
    const forger = await keyPair("forged");
    for (let i = 0; i < 20; i++) expect(await codeOf(verifier.verify(await sign(forger)))).toBe("invalid_token");
    expect(server.state.fetches).toBe(2); // the first load, and one refetch for the unknown kid
    expect(UNKNOWN_KID_COOLDOWN_MS).toBe(30_000);
  });

  it("answers jwks_unavailable when the JWKS cannot be fetched", async () => {
    const pair = await keyPair("k1");
    const down = { fetch: async () => new Response("down", { status: 503 }) };
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks: `https://issuer.test/${crypto.randomUUID()}`,
      fetcher: down,
    });
    expect(await codeOf(verifier.verify(await sign(pair)))).toBe("jwks_unavailable");
  });

  it("gives up on a JWKS endpoint that never answers, as jwks_unavailable", async () => {
    const pair = await keyPair("k1");
    const signals: (AbortSignal | null | undefined)[] = [];
    // Answers only when the request is aborted, like a hung upstream would never do.
    const hung = {
      fetch: (_input: RequestInfo | URL, init?: RequestInit) =>
        new Promise<Response>((_resolve, reject) => {
          signals.push(init?.signal);
          init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
        }),
    };
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks: `https://issuer.test/${crypto.randomUUID()}`,
      fetcher: hung,
      jwksFetchTimeoutMs: 50,
    });
    expect(await codeOf(verifier.verify(await sign(pair)))).toBe("jwks_unavailable");
    expect(signals[0]).toBeInstanceOf(AbortSignal);
  });

  it("shares the JWKS with other isolates through the Cache API", async () => {
    const pair = await keyPair("k1");
    const server = jwksServer([pair.jwk]);
    const first = remoteVerifier(server);
    await first.verify(await sign(pair));
    // A fresh verifier (as in a new isolate) finds it in the cache.
    const second = remoteVerifier(server);
    await second.verify(await sign(pair));
    expect(server.state.fetches).toBe(1);
  });
});

describe("JWKS cache lifetimes and failures", () => {
  function clockAt(start: number) {
    const clock = { now: start, tick: (ms: number) => (clock.now += ms), read: () => clock.now };
    return clock;
  }

  it("refetches after the server's max-age, and only then", async () => {
    const pair = await keyPair("k1");
    const server = jwksServer([pair.jwk], "max-age=60, s-maxage=3600");
    const clock = clockAt(Date.now());
    const verifier = remoteVerifier(server, clock.read);
    const token = await sign(pair);
    await verifier.verify(token, { now: Date.now() });
    clock.tick(59_000);
    await verifier.verify(token, { now: Date.now() });
    expect(server.state.fetches).toBe(1);
    // Past max-age (s-maxage is for shared caches, not for us): a removed key is dropped.
    clock.tick(2_000);
    server.state.keys = [];
    expect(await codeOf(verifier.verify(token, { now: Date.now() }))).toBe("invalid_token");
    // The expiry refetch, then one unknown-kid refetch (cooldown permitting).
    expect(server.state.fetches).toBe(3);
  });

  it("clamps max-age=0 to 30 s instead of fetching for every token", async () => {
    const pair = await keyPair("k1");
    const server = jwksServer([pair.jwk], "max-age=0");
    const verifier = remoteVerifier(server);
    const token = await sign(pair);
    for (let i = 0; i < 10; i++) await verifier.verify(token);
    expect(server.state.fetches).toBe(1);
  });

  it("allows another unknown-kid refetch once the 30 s cooldown has passed", async () => {
    const pair = await keyPair("k1");
    const server = jwksServer([pair.jwk]);
    const clock = clockAt(Date.now());
    const verifier = remoteVerifier(server, clock.read);
    await verifier.verify(await sign(pair), { now: Date.now() });
    const late = await keyPair("late");
    expect(await codeOf(verifier.verify(await sign(late), { now: Date.now() }))).toBe("invalid_token");
    server.state.keys = [pair.jwk, late.jwk];
    clock.tick(10_000);
    expect(await codeOf(verifier.verify(await sign(late), { now: Date.now() }))).toBe("invalid_token");
    clock.tick(20_000);
    expect(await codeOf(verifier.verify(await sign(late), { now: Date.now() }))).toBe("ok");
    expect(server.state.fetches).toBe(3);
  });

  it("lets every concurrent request with a rotated-in kid through, on one refetch", async () => {
    const old = await keyPair("old");
    const server = jwksServer([old.jwk]);
    const verifier = remoteVerifier(server);
    await verifier.verify(await sign(old));
    const next = await keyPair("next");
    server.state.keys = [next.jwk, old.jwk];
    const tokens = await Promise.all(Array.from({ length: 5 }, () => sign(next)));
    const codes = await Promise.all(tokens.map((t) => codeOf(verifier.verify(t))));
    expect(codes).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    expect(server.state.fetches).toBe(2);
  });

  it("never caches a broken key set, and reports it as jwks_unavailable", async () => {
    const pair = await keyPair("k1");
    const server = jwksServer([pair.jwk]);
    server.state.keys = "oops";
    const broken = remoteVerifier(server);
    expect(await codeOf(broken.verify(await sign(pair)))).toBe("jwks_unavailable");
    server.state.keys = [pair.jwk];
    const fresh = remoteVerifier(server);
    expect(await codeOf(fresh.verify(await sign(pair)))).toBe("ok");
  });

  it("keeps serving the last good keys while the JWKS endpoint is down", async () => {
    const pair = await keyPair("k1");
    const server = jwksServer([pair.jwk], "max-age=60");
    const clock = clockAt(Date.now());
    const verifier = remoteVerifier(server, clock.read);
    const token = await sign(pair);
    await verifier.verify(token, { now: Date.now() });
    server.state.down = true;
    clock.tick(61_000);
    expect(await codeOf(verifier.verify(token, { now: Date.now() }))).toBe("ok");
    // And it does not hammer the endpoint: the next try waits 10 s.
    const fetches = server.state.fetches;
    for (let i = 0; i < 5; i++) await verifier.verify(token, { now: Date.now() });
    expect(server.state.fetches).toBe(fetches);
  });
});

describe("revocation at the edge", () => {
  it("refuses a revoked jti, a revoked session and a token older than the user's not-before marker", async () => {
    const pair = await keyPair("k1");
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks: { keys: [pair.jwk] },
      revocation: env.REVOCATIONS,
    });
    const store = new RevocationWriter(env.REVOCATIONS);
    const now = Date.now();
    const user = `edge-${crypto.randomUUID()}`;
    const jti = crypto.randomUUID();
    expect(await codeOf(verifier.verify(await sign(pair, { sub: user, jti })))).toBe("ok");
    await store.revokeJti(jti, now + 600_000, now);
    expect(await codeOf(verifier.verify(await sign(pair, { sub: user, jti })))).toBe("token_revoked");
    const sid = crypto.randomUUID();
    await store.revokeSession(sid, now + 600_000, now);
    expect(await codeOf(verifier.verify(await sign(pair, { sub: user, sid })))).toBe("token_revoked");
    await store.setNotBefore(user, Math.floor(now / 1000) + 60, now + 600_000, now);
    expect(await codeOf(verifier.verify(await sign(pair, { sub: user })))).toBe("token_revoked");
  });
});
