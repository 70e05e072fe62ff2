// Generates development secrets: an ES256 signing key (as a JWK set) and a
// password pepper. Used by `npm run dev` (written to .dev.vars) and by the test
// config (passed as bindings). Never used for production secrets.
import { webcrypto } from "node:crypto";

export async function generateSigningKeySet(kid = `dev-${Date.now().toString(36)}`) {
  const pair = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const jwk = await webcrypto.subtle.exportKey("jwk", pair.privateKey);
  return { keys: [{ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d, kid, alg: "ES256" }] };
}

export function generatePepper() {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

export async function generateDevSecrets() {
  return {
    JWT_PRIVATE_KEYS: JSON.stringify(await generateSigningKeySet()),
    PASSWORD_PEPPER: generatePepper(),
    REQUEST_SIGNING_SECRET: generatePepper(),
  };
}

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
    "ISSUER=http://localhost:8787",
    "PUBLIC_URL=http://localhost:8787",
    "ACCESS_TOKEN_AUDIENCE=http://localhost:8787",
    "MAIL_TRANSPORT=outbox",
    `PASSWORD_PEPPER=${secrets.PASSWORD_PEPPER}`,
    `JWT_PRIVATE_KEYS=${secrets.JWT_PRIVATE_KEYS}`,
    `REQUEST_SIGNING_SECRET=${secrets.REQUEST_SIGNING_SECRET}`,
    "",
  ];
  writeFileSync(path, lines.join("\n"), { mode: 0o600 });
  return true;
}
