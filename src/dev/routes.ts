/**
 * @module routes/dev
 * Development-only routes, mounted only when ENVIRONMENT is not production:
 *   GET  /_dev/demo                           a cookie-session demo page (the browser test drives it)
 *   GET  /_dev/outbox?to=<email>              mail kept by the outbox transport
 *   POST /_dev/password-hash-cost {count}     runs `count` password hashes (for bench/)
 *   POST /_dev/verify-cost {alg, count}       verifies one access token `count` times with
 *                                             src/verify over a cached key (for bench/)
 *   POST /_dev/storage-cost {count}           times one storage operation of each kind the hot
 *                                             paths use, `count` times in a row (for bench/)
 */
import { Hono } from "hono";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { z } from "zod";
import type { AppEnv } from "../app/app-env";
import { invalidRequest } from "../app/errors/codes";
import { readJson } from "../app/json-body";
import { hashPassword } from "../identity/passwords";
import { normalizeEmail } from "../lib/email";
import { demoPage } from "../ui/demo-page";
import { ACCESS_TOKEN_TYP, createVerifier, type Verifier } from "../verify/verifier";

/** Cap of one /_dev/verify-cost call: a few seconds of CPU at most. */
const MAX_VERIFY_COUNT = 20_000;
const VERIFY_COST_ISSUER = "https://bench.invalid";
const VERIFY_COST_AUDIENCE = "https://api.bench.invalid";
/** Lifetime of the benchmark token; it is signed again when less than a quarter of it is left. */
const VERIFY_COST_TOKEN_TTL_SECONDS = 3600;

type VerifyCostAlg = "ES256" | "EdDSA";

interface VerifyCostFixture {
  kid: string;
  key: CryptoKey;
  verifier: Verifier;
  token?: { value: string; jti: string; exp: number };
}

/**
 * Per isolate and algorithm: one key pair and a verifier over its public JWK set
 * (kept in module scope, so after the first call the key import is cached, as
 * in a long-lived API Worker).
 */
const verifyCostFixtures = new Map<VerifyCostAlg, Promise<VerifyCostFixture>>();

function verifyCostFixture(alg: VerifyCostAlg): Promise<VerifyCostFixture> {
  let fixture = verifyCostFixtures.get(alg);
  if (!fixture) {
    fixture = (async () => {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const kid = `bench-${alg.toLowerCase()}-${crypto.randomUUID().slice(0, 8)}`;
      const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
      const verifier = createVerifier({
        issuer: VERIFY_COST_ISSUER,
        audience: VERIFY_COST_AUDIENCE,
        jwks: { keys: [jwk] },
        algorithms: [alg],
      });
      return { kid, key: privateKey, verifier };
    })();
    // A failed setup is not cached: the next call tries again.
    fixture.catch(() => verifyCostFixtures.delete(alg));
    verifyCostFixtures.set(alg, fixture);
  }
  return fixture;
}

/** The fixture's token, signed like a real access token; signed again when it nears expiry. */
async function verifyCostToken(alg: VerifyCostAlg, fixture: VerifyCostFixture, nowSeconds: number) {
  if (!fixture.token || fixture.token.exp - nowSeconds < VERIFY_COST_TOKEN_TTL_SECONDS / 4) {
    const jti = crypto.randomUUID();
    const exp = nowSeconds + VERIFY_COST_TOKEN_TTL_SECONDS;
    const value = await new SignJWT({ sid: crypto.randomUUID(), client_id: "edgelock" })
      .setProtectedHeader({ alg, typ: ACCESS_TOKEN_TYP, kid: fixture.kid })
      .setIssuer(VERIFY_COST_ISSUER)
      .setAudience(VERIFY_COST_AUDIENCE)
      .setSubject(crypto.randomUUID())
      .setIssuedAt(nowSeconds)
      .setExpirationTime(exp)
      .setJti(jti)
      .sign(fixture.key);
    fixture.token = { value, jti, exp };
  }
  return fixture.token;
}

/**
 * Mean time of one call of `op`, over `count` calls in a row after one warm-up.
 * Inside a Worker the clock only moves on I/O, and every call here ends with
 * I/O, so each interval covers the call's own work and its wait.
 */
async function meanMs(count: number, op: (i: number) => Promise<unknown>): Promise<number> {
  await op(-1);
  const start = performance.now();
  for (let i = 0; i < count; i++) await op(i);
  return Math.round(((performance.now() - start) / count) * 1000) / 1000;
}

export const devRoutes = new Hono<AppEnv>()
  .get("/demo", (c) => demoPage(c))
  .get("/outbox", async (c) => {
    const to = c.req.query("to");
    if (!to) throw invalidRequest("to: the recipient email is required");
    return c.json(await c.var.services.outbox.listFor(normalizeEmail(to)));
  })
  .post("/password-hash-cost", async (c) => {
    const { count } = await readJson(c, z.object({ count: z.number().int().min(1).max(50) }));
    const params = c.var.services.config.passwords;
    for (let i = 0; i < count; i++) await hashPassword("benchmark password", params);
    return c.json({ count, iterations: params.iterations });
  })
  .post("/storage-cost", async (c) => {
    const { count } = await readJson(c, z.object({ count: z.number().int().min(1).max(200) }));
    const { limiter, users } = c.var.services;
    const run = crypto.randomUUID();
    // Keys of this route's own (bench:), short-lived: nothing a user stored is touched.
    const kvKey = (i: number) => `bench:${run}:${i}`;
    const rate = { limit: 1_000_000, windowMs: 60_000 };
    const kv = c.env.TOKENS;
    const ms = {
      rate_limiter_check: await meanMs(count, () => limiter.consume(`bench:ip:${run}`, rate, Date.now())),
      kv_get: await meanMs(count, (i) => kv.get(kvKey(i), "json")),
      kv_put: await meanMs(count, (i) => kv.put(kvKey(i), "{}", { expirationTtl: 60 })),
      d1_select: await meanMs(count, (i) => users.findByEmail(`bench-${run}-${i}@bench.invalid`)),
      d1_batch_of_3: await meanMs(count, () =>
        c.env.DB.batch([c.env.DB.prepare("SELECT 1"), c.env.DB.prepare("SELECT 2"), c.env.DB.prepare("SELECT 3")]),
      ),
    };
    return c.json({ count, ms });
  })
  .post("/verify-cost", async (c) => {
    const { alg, count } = await readJson(
      c,
      z.object({ alg: z.enum(["ES256", "EdDSA"]), count: z.number().int().min(1).max(MAX_VERIFY_COUNT) }),
    );
    const fixture = await verifyCostFixture(alg);
    const token = await verifyCostToken(alg, fixture, Math.floor(Date.now() / 1000));
    // Serial on purpose: the bench times count=1 against count=N from outside
    // (the Worker's clock does not advance during CPU work) for the cost of one.
    for (let i = 0; i < count; i++) {
      const claims = await fixture.verifier.verify(token.value);
      if (claims.jti !== token.jti) throw new Error("verify-cost: the verifier returned other claims");
    }
    return c.json({ alg, count, kid: fixture.kid });
  });
