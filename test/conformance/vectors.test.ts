// Published test vectors: RFC 7636 Appendix B (PKCE S256) and the at_hash /
// c_hash examples of OpenID Connect Core 1.0 (Appendix A.3 / A.4).
import { describe, expect, it } from "vitest";
import { atHash } from "../../src/oauth/id-tokens";
import { s256Challenge, verifierMatches } from "../../src/oauth/pkce";

describe("RFC 7636 Appendix B", () => {
  const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

  it("derives the S256 challenge of the example verifier", async () => {
    expect(await s256Challenge(verifier)).toBe(challenge);
  });

  it("accepts the verifier and refuses a changed one or a malformed one", async () => {
    expect(await verifierMatches(verifier, challenge)).toBe(true);
    expect(await verifierMatches(`${verifier.slice(0, -1)}l`, challenge)).toBe(false);
    expect(await verifierMatches("short", challenge)).toBe(false);
  });
});

describe("OpenID Connect Core at_hash", () => {
  it("hashes the spec's example access token and code", async () => {
    expect(await atHash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y")).toBe("77QmUPtjPfzWtF2AnpK9RQ");
    // c_hash is the same construction over the code.
    expect(await atHash("Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk")).toBe("LDktKdoQak3Pk0cnXxCltA");
  });
});
