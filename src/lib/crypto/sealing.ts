/**
 * @module lib/crypto/sealing
 * AES-256-GCM sealing of small secrets kept at rest (TOTP secrets), under a
 * keyring: the current key seals, every listed key opens, and each sealed
 * value names the key that sealed it, so the key can rotate. The value's
 * purpose is bound as additional data, so a ciphertext cannot be moved to
 * another row or use.
 */
import { base64url, fromBase64url, utf8Bytes } from "./encoding";

export interface Keyring {
  currentId: string;
  /** Raw 32-byte keys by id, the current one included. */
  keys: Record<string, Uint8Array<ArrayBuffer>>;
}

export interface Sealed {
  keyId: string;
  /** base64url(IV || ciphertext || tag) */
  ciphertext: string;
}

const IV_BYTES = 12;
const imported = new WeakMap<Uint8Array, Promise<CryptoKey>>();

function aesKey(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  let key = imported.get(raw);
  if (!key) {
    key = crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
    imported.set(raw, key);
  }
  return key;
}

export async function seal(keyring: Keyring, plaintext: Uint8Array<ArrayBuffer>, context: string): Promise<Sealed> {
  const raw = keyring.keys[keyring.currentId];
  if (!raw) throw new Error(`the keyring has no key ${keyring.currentId}`);
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: utf8Bytes(context) },
      await aesKey(raw),
      plaintext,
    ),
  );
  const out = new Uint8Array(IV_BYTES + sealed.length);
  out.set(iv);
  out.set(sealed, IV_BYTES);
  return { keyId: keyring.currentId, ciphertext: base64url(out) };
}

/** The plaintext, or null when the key is unknown or the value was tampered with. */
export async function open(keyring: Keyring, sealed: Sealed, context: string): Promise<Uint8Array<ArrayBuffer> | null> {
  const raw = keyring.keys[sealed.keyId];
  const bytes = fromBase64url(sealed.ciphertext);
  if (!raw || !bytes || bytes.length <= IV_BYTES) return null;
  try {
    const plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.slice(0, IV_BYTES), additionalData: utf8Bytes(context) },
      await aesKey(raw),
      bytes.slice(IV_BYTES),
    );
    return new Uint8Array(plaintext);
  } catch {
    return null;
  }
}
