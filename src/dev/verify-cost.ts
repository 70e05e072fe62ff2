/**
 * @module dev/verify-cost
 * The fixture behind POST /_dev/verify-cost (bench/): one key pair per isolate
 * and algorithm, a verifier over its public JWK set (kept in module scope, so
 * after the first call the key import is cached, as in a long-lived API
 * Worker), and a token signed like a real access token.
 */
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { ACCESS_TOKEN_TYP, createVerifier, type Verifier } from "../verify/verifier";

/** Cap of one /_dev/verify-cost call: a few seconds of CPU at most. */
export const MAX_VERIFY_COUNT = 20_000;
const VERIFY_COST_ISSUER = "https://bench.invalid";
const VERIFY_COST_AUDIENCE = "https://api.bench.invalid";
/** Lifetime of the benchmark token; it is signed again when less than a quarter of it is left. */
const VERIFY_COST_TOKEN_TTL_SECONDS = 3600;

export type VerifyCostAlg = "ES256" | "EdDSA";

interface VerifyCostFixture {
  kid: string;
  key: CryptoKey;
  verifier: Verifier;
  token?: { value: string; jti: string; exp: number };
}

const fixtures = new Map<VerifyCostAlg, Promise<VerifyCostFixture>>();

function fixtureFor(alg: VerifyCostAlg): Promise<VerifyCostFixture> {
  let fixture = fixtures.get(alg);
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
    // A failed setup is not cached: the next call tries again (the caller gets the failure).
    const failed = fixture;
    failed.then(undefined, () => fixtures.delete(alg));
    fixtures.set(alg, fixture);
  }
  return fixture;
}

/** The fixture's token, signed like a real access token; signed again when it nears expiry. */
async function tokenFor(fixture: VerifyCostFixture, alg: VerifyCostAlg, nowSeconds: number) {
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
 * Verifies one token `count` times in a row. Serial on purpose: the bench times
 * count=1 against count=N from outside (the Worker's clock does not advance
 * during CPU work) for the cost of one.
 */
export async function runVerifyCost(alg: VerifyCostAlg, count: number): Promise<{ kid: string }> {
  const fixture = await fixtureFor(alg);
  const token = await tokenFor(fixture, alg, Math.floor(Date.now() / 1000));
  for (let i = 0; i < count; i++) {
    const claims = await fixture.verifier.verify(token.value);
    if (claims.jti !== token.jti) throw new Error("verify-cost: the verifier returned other claims");
  }
  return { kid: fixture.kid };
}
