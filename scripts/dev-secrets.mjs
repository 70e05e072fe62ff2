// Generates development secrets: the JWT signing keys (a JWK set: an ES256 key,
// then an RS256 key) and a password pepper. Used by `npm run dev` (written to
// .dev.vars) and by the test config (passed as bindings). Never used for
// production secrets.
import { webcrypto } from "node:crypto";

const devKid = () => `dev-${Date.now().toString(36)}`;

/** An EC P-256 private JWK for ES256 (access tokens). */
export async function generateEcSigningKey(kid = devKid()) {
  const pair = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const jwk = await webcrypto.subtle.exportKey("jwk", pair.privateKey);
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d, kid, alg: "ES256" };
}

/** An RSA 2048-bit private JWK for RS256 (OpenID Connect ID tokens). */
export async function generateRsaSigningKey(kid = `${devKid()}-rsa`) {
  const pair = await webcrypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  );
  const jwk = await webcrypto.subtle.exportKey("jwk", pair.privateKey);
  const { kty, n, e, d, p, q, dp, dq, qi } = jwk;
  return { kty, n, e, d, p, q, dp, dq, qi, kid, alg: "RS256" };
}

/**
 * The development JWK set. The EC key comes first: the server signs access tokens
 * with the first ES256 key and ID tokens with the first RS256 key.
 */
export async function generateSigningKeySet(kid = devKid()) {
  const [ec, rsa] = await Promise.all([generateEcSigningKey(kid), generateRsaSigningKey(`${kid}-rsa`)]);
  return { keys: [ec, rsa] };
}

export function generatePepper() {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

export async function generateDevSecrets() {
  return {
    JWT_PRIVATE_KEYS: JSON.stringify(await generateSigningKeySet()),
    PASSWORD_PEPPER: generatePepper(),
    REQUEST_SIGNING_SECRET: generatePepper(),
    MFA_ENCRYPTION_KEY: generateMfaKey(),
  };
}

/** A 256-bit AES key, base64url: MFA_ENCRYPTION_KEY seals TOTP secrets at rest. */
export function generateMfaKey() {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

/** The origin `npm run dev` writes into a new .dev.vars (scripts/dev.mjs treats it as "not set"). */
export const DEFAULT_DEV_ORIGIN = "http://localhost:8787";

/**
 * Writes `path` (.dev.vars) with development settings and fresh secrets if it is
 * missing; returns true when it wrote it. Used by `npm run dev` and the bench.
 */
export async function writeDevVarsIfMissing(path = ".dev.vars") {
  const { existsSync, writeFileSync } = await import("node:fs");
  if (existsSync(path)) return false;
  const secrets = await generateDevSecrets();
  const lines = [
    "# Development settings and secrets, written by `npm run dev`. Git-ignored; never deploy these.",
    "ENVIRONMENT=development",
    `ISSUER=${DEFAULT_DEV_ORIGIN}`,
    `PUBLIC_URL=${DEFAULT_DEV_ORIGIN}`,
    `ACCESS_TOKEN_AUDIENCE=${DEFAULT_DEV_ORIGIN}`,
    "MAIL_TRANSPORT=outbox",
    `PASSWORD_PEPPER=${secrets.PASSWORD_PEPPER}`,
    `JWT_PRIVATE_KEYS=${secrets.JWT_PRIVATE_KEYS}`,
    `REQUEST_SIGNING_SECRET=${secrets.REQUEST_SIGNING_SECRET}`,
    `MFA_ENCRYPTION_KEY=${secrets.MFA_ENCRYPTION_KEY}`,
    "",
  ];
  writeFileSync(path, lines.join("\n"), { mode: 0o600 });
  return true;
}

/** The KEY=VALUE pairs of a .dev.vars file (dotenv syntax, as wrangler reads it); {} when it is missing. */
export async function readDevVars(path = ".dev.vars") {
  const { existsSync, readFileSync } = await import("node:fs");
  const { parseEnv } = await import("node:util");
  return existsSync(path) ? parseEnv(readFileSync(path, "utf8")) : {};
}

/**
 * For a .dev.vars written before ID tokens: when its JWT_PRIVATE_KEYS holds no
 * RS256 key, appends a fresh one (the existing keys stay first and keep signing,
 * so tokens already issued stay valid) and rewrites that line. Returns
 * "added", "present", or a reason it left the file alone.
 */
export async function addRsaKeyIfMissing(path = ".dev.vars") {
  const { existsSync, readFileSync, writeFileSync } = await import("node:fs");
  const { parseEnv } = await import("node:util");
  if (!existsSync(path)) return "no file";
  const lines = readFileSync(path, "utf8").split("\n");
  // The last assignment wins in dotenv, as it does for wrangler.
  const index = lines.findLastIndex((line) => /^\s*(export\s+)?JWT_PRIVATE_KEYS\s*=/.test(line));
  if (index === -1) return "no JWT_PRIVATE_KEYS";
  let set;
  try {
    set = JSON.parse(parseEnv(lines[index]).JWT_PRIVATE_KEYS ?? "");
  } catch {
    return "JWT_PRIVATE_KEYS is not one line of JSON";
  }
  if (!Array.isArray(set?.keys)) return "JWT_PRIVATE_KEYS has no keys array";
  if (set.keys.some((key) => key?.alg === "RS256")) return "present";
  const kids = new Set(set.keys.map((key) => key?.kid));
  let kid = `${devKid()}-rsa`;
  while (kids.has(kid)) kid += "x";
  set.keys.push(await generateRsaSigningKey(kid));
  lines[index] = `JWT_PRIVATE_KEYS=${JSON.stringify(set)}`;
  writeFileSync(path, lines.join("\n"));
  return "added";
}

/**
 * For a .dev.vars written before MFA: appends an MFA_ENCRYPTION_KEY when it has
 * none. Returns "added" or "present".
 */
export async function addMfaKeyIfMissing(path = ".dev.vars") {
  const { appendFileSync, existsSync } = await import("node:fs");
  if (!existsSync(path)) return "no file";
  if ((await readDevVars(path)).MFA_ENCRYPTION_KEY) return "present";
  appendFileSync(path, `\nMFA_ENCRYPTION_KEY=${generateMfaKey()}\n`);
  return "added";
}
