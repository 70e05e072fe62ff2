import { describe, expect, it } from "vitest";
import { acceptNewPassword } from "../../src/identity/password-policy";
import { hashPassword, parseHash, verifyPassword } from "../../src/identity/passwords";

const params = { iterations: 20_000, pepperId: "p1", peppers: { p1: "pepper-one-pepper-one-pepper-one-xx" } };

describe("password hashing", () => {
  it("stores algorithm, iterations, pepper id, a 16-byte salt and the hash", async () => {
    const stored = await hashPassword("a fine password", params);
    expect(stored).toMatch(/^pbkdf2-sha256\$20000\$p1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(parseHash(stored)?.salt.byteLength).toBe(16);
  });

  it("salts: the same password hashes differently twice", async () => {
    expect(await hashPassword("a fine password", params)).not.toBe(await hashPassword("a fine password", params));
  });

  it("verifies the right password and refuses a wrong one", async () => {
    const stored = await hashPassword("a fine password", params);
    expect(await verifyPassword("a fine password", stored, params)).toEqual({ ok: true, needsRehash: false });
    expect(await verifyPassword("a fine passwore", stored, params)).toEqual({ ok: false, needsRehash: false });
  });

  it("needs the pepper: the same hash with another pepper of the same id fails", async () => {
    const stored = await hashPassword("a fine password", params);
    const otherPepper = { ...params, peppers: { p1: "another-pepper-another-pepper-another" } };
    expect((await verifyPassword("a fine password", stored, otherPepper)).ok).toBe(false);
  });

  it("asks for a re-hash when iterations or pepper changed, only after a correct password", async () => {
    const stored = await hashPassword("a fine password", params);
    const raised = { ...params, iterations: 30_000 };
    expect(await verifyPassword("a fine password", stored, raised)).toEqual({ ok: true, needsRehash: true });
    expect(await verifyPassword("wrong password", stored, raised)).toEqual({ ok: false, needsRehash: false });
    const rotated = {
      iterations: 20_000,
      pepperId: "p2",
      peppers: { ...params.peppers, p2: "pepper-two-pepper-two-pepper-two-xx" },
    };
    expect(await verifyPassword("a fine password", stored, rotated)).toEqual({ ok: true, needsRehash: true });
  });

  it("refuses malformed stored hashes and unknown pepper ids", async () => {
    expect((await verifyPassword("x", "md5$abc", params)).ok).toBe(false);
    const stored = await hashPassword("a fine password", params);
    expect((await verifyPassword("a fine password", stored.replace("$p1$", "$p9$"), params)).ok).toBe(false);
  });
});

describe("password policy", () => {
  const floor = { minLength: 8 };

  it("returns the NFKC form that gets hashed", () => {
    expect(acceptNewPassword("ﬁne password", floor)).toBe("fine password");
  });

  it("counts code points, not UTF-16 units", () => {
    expect(acceptNewPassword("😀".repeat(8), floor)).toBe("😀".repeat(8));
    expect(() => acceptNewPassword("😀".repeat(7), floor)).toThrow(/at least 8/);
    expect(() => acceptNewPassword("😀".repeat(257), floor)).toThrow(/at most 256/);
  });

  it("takes its minimum from the deployment's setting", () => {
    expect(() => acceptNewPassword("fourteen chars", { minLength: 15 })).toThrow(/at least 15/);
    expect(acceptNewPassword("fifteen chars!!", { minLength: 15 })).toBe("fifteen chars!!");
  });

  it("refuses very long input before normalizing it", () => {
    expect(() => acceptNewPassword("a".repeat(100_000), floor)).toThrow(/at most 256/);
  });
});
