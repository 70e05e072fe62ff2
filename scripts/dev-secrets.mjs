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
  };
}
