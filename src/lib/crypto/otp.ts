/**
 * @module lib/crypto/otp
 * HOTP (RFC 4226) and TOTP (RFC 6238) over Web Crypto HMAC. edgelock issues
 * SHA-1, 6 digits, 30 s (what every authenticator app accepts); SHA-256 and
 * SHA-512 are here for the RFC's vectors and other deployments.
 */

export type OtpHash = "SHA-1" | "SHA-256" | "SHA-512";

/** RFC 4226 §5.3: dynamic truncation of HMAC(secret, counter) to `digits` decimal digits. */
export async function hotp(secret: Uint8Array<ArrayBuffer>, counter: number, digits = 6, hash: OtpHash = "SHA-1") {
  const message = new Uint8Array(8);
  // The counter is a 64-bit big-endian integer; JavaScript numbers are exact up to 2^53.
  new DataView(message.buffer).setBigUint64(0, BigInt(counter));
  const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary =
    (((mac[offset] as number) & 0x7f) << 24) |
    ((mac[offset + 1] as number) << 16) |
    ((mac[offset + 2] as number) << 8) |
    (mac[offset + 3] as number);
  return String(binary % 10 ** digits).padStart(digits, "0");
}

export const TOTP_PERIOD_SECONDS = 30;

/** The RFC 6238 time step of `epochMs`. */
export function totpStep(epochMs: number, period = TOTP_PERIOD_SECONDS): number {
  return Math.floor(epochMs / 1000 / period);
}

export function totp(secret: Uint8Array<ArrayBuffer>, epochMs: number, digits = 6, hash: OtpHash = "SHA-1") {
  return hotp(secret, totpStep(epochMs), digits, hash);
}
