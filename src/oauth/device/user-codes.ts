/**
 * @module oauth/device/user-codes
 * User codes of the device authorization grant (RFC 8628 §6.1): 8 letters
 * from BCDFGHJKLMNPQRSTVWXZ (no vowels, so no words; no letters that read as
 * digits), shown as XXXX-XXXX, read back whatever the case, dashes and spaces.
 * 20^8 codes is about 34.6 bits: enough only behind the entry rate limits and
 * the 10-minute life, which is what §5.1 asks for.
 */
import { randomBytes } from "../../lib/crypto/random";

export const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";
export const USER_CODE_LENGTH = 8;

/** The largest multiple of 20 below 256: bytes at or above it are drawn again, so every letter is equally likely. */
const UNBIASED_LIMIT = 256 - (256 % USER_CODE_ALPHABET.length);

/** A fresh code in its stored form (8 letters, no dash). */
export function newUserCode(): string {
  let code = "";
  while (code.length < USER_CODE_LENGTH) {
    for (const byte of randomBytes(USER_CODE_LENGTH * 2)) {
      if (byte >= UNBIASED_LIMIT || code.length === USER_CODE_LENGTH) continue;
      code += USER_CODE_ALPHABET[byte % USER_CODE_ALPHABET.length];
    }
  }
  return code;
}

/** How the code is shown: XXXX-XXXX. */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** What the user typed, in stored form; null when it cannot be a code (wrong length or letters). */
export function normalizeUserCode(input: string): string | null {
  if (input.length > 64) return null;
  const code = input.toUpperCase().replace(/[\s-]/g, "");
  if (code.length !== USER_CODE_LENGTH) return null;
  for (const letter of code) if (!USER_CODE_ALPHABET.includes(letter)) return null;
  return code;
}
