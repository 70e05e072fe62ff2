// RFC 4226 Appendix D and RFC 6238 Appendix B test vectors, base32 and sealing.
import { describe, expect, it } from "vitest";
import { base32, fromBase32 } from "../../src/lib/crypto/base32";
import { utf8Bytes } from "../../src/lib/crypto/encoding";
import { hotp, type OtpHash, totp } from "../../src/lib/crypto/otp";
import { open, seal } from "../../src/lib/crypto/sealing";

describe("RFC 4226 Appendix D (HOTP)", () => {
  const secret = utf8Bytes("12345678901234567890");
  const expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
  it.each(expected.map((code, counter) => [counter, code]))("counter %i → %s", async (counter, code) => {
    expect(await hotp(secret, counter as number)).toBe(code);
  });
});

describe("RFC 6238 Appendix B (TOTP, 8 digits)", () => {
  const seeds: Record<OtpHash, Uint8Array<ArrayBuffer>> = {
    "SHA-1": utf8Bytes("12345678901234567890"),
    "SHA-256": utf8Bytes("12345678901234567890123456789012"),
    "SHA-512": utf8Bytes("1234567890123456789012345678901234567890123456789012345678901234"),
  };
  const table: [number, string, string, string][] = [
    [59, "94287082", "46119246", "90693936"],
    [1111111109, "07081804", "68084774", "25091201"],
    [1111111111, "14050471", "67062674", "99943326"],
    [1234567890, "89005924", "91819424", "93441116"],
    [2000000000, "69279037", "90698825", "38618901"],
    [20000000000, "65353130", "77737706", "47863826"],
  ];
  it.each(table)("T = %i", async (seconds, sha1, sha256, sha512) => {
    const at = seconds * 1000;
    expect(await totp(seeds["SHA-1"], at, 8, "SHA-1")).toBe(sha1);
    expect(await totp(seeds["SHA-256"], at, 8, "SHA-256")).toBe(sha256);
    expect(await totp(seeds["SHA-512"], at, 8, "SHA-512")).toBe(sha512);
  });
});

describe("base32 (RFC 4648 §10)", () => {
  it.each([
    ["", ""],
    ["f", "MY"],
    ["fo", "MZXQ"],
    ["foo", "MZXW6"],
    ["foob", "MZXW6YQ"],
    ["fooba", "MZXW6YTB"],
    ["foobar", "MZXW6YTBOI"],
  ])("%s ⇄ %s", (text, encoded) => {
    expect(base32(utf8Bytes(text))).toBe(encoded);
    expect(new TextDecoder().decode(fromBase32(`${encoded.toLowerCase()}==`) as Uint8Array)).toBe(text);
  });

  it("refuses characters outside the alphabet", () => {
    expect(fromBase32("MZXW1")).toBeNull();
  });
});

describe("sealing (AES-256-GCM under a keyring)", () => {
  const keyring = { currentId: "k2", keys: { k1: new Uint8Array(32).fill(1), k2: new Uint8Array(32).fill(2) } };

  it("opens what it sealed, with an older key too, and nothing tampered or moved", async () => {
    const sealed = await seal(keyring, utf8Bytes("secret"), "totp:user-1");
    expect(sealed.keyId).toBe("k2");
    expect(new TextDecoder().decode((await open(keyring, sealed, "totp:user-1")) as Uint8Array)).toBe("secret");
    expect(await open(keyring, sealed, "totp:user-2")).toBeNull();
    const flipped = `${sealed.ciphertext.slice(0, -2)}${sealed.ciphertext.endsWith("A") ? "B" : "A"}${sealed.ciphertext.slice(-1)}`;
    expect(await open(keyring, { ...sealed, ciphertext: flipped }, "totp:user-1")).toBeNull();
    const old = await seal({ ...keyring, currentId: "k1" }, utf8Bytes("older"), "c");
    expect(new TextDecoder().decode((await open(keyring, old, "c")) as Uint8Array)).toBe("older");
    expect(await open({ currentId: "k2", keys: { k2: keyring.keys.k2 } }, old, "c")).toBeNull();
  });
});
