/**
 * @module lib/crypto/digest
 * SHA-256 and HMAC-SHA256 over Web Crypto. Tokens are stored only as these digests.
 */
import { hex, utf8Bytes } from "./encoding";

export async function sha256(data: string | Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = typeof data === "string" ? utf8Bytes(data) : data;
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** Hex SHA-256: the at-rest form of every opaque token (refresh, verification). */
export async function sha256Hex(data: string): Promise<string> {
  return hex(await sha256(data));
}

export async function hmacSha256(
  key: string | Uint8Array<ArrayBuffer>,
  data: string | Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const keyBytes = typeof key === "string" ? utf8Bytes(key) : key;
  const cryptoKey = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const message = typeof data === "string" ? utf8Bytes(data) : data;
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, message));
}
