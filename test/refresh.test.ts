import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../src/crypto/digest";
import { RefreshTokenService, type ReuseEvent } from "../src/services/refresh-tokens";
import { RefreshTokenStore } from "../src/storage/refresh-tokens";
import { expectError, jsonRequest, newSession, postJson, sendWithEnv, type TokenResponse } from "./helpers";

const allowAll = { load: async () => null, authorize: () => {} };

async function refresh(refreshToken: string): Promise<Response> {
  return postJson("/auth/refresh", { refresh_token: refreshToken });
}

async function refreshOk(refreshToken: string): Promise<TokenResponse> {
  const response = await refresh(refreshToken);
  expect(response.status).toBe(200);
  return response.json();
}

describe("POST /auth/refresh", () => {
  it("rotates: answers a new token response and spends the presented token", async () => {
    const session = await newSession();
    const next = await refreshOk(session.refresh_token);
    expect(next.refresh_token).not.toBe(session.refresh_token);
    expect(next.access_token).not.toBe(session.access_token);
    expect(next.user.email).toBe(session.email);
    const third = await refreshOk(next.refresh_token);
    expect(third.refresh_token).not.toBe(next.refresh_token);
  });

  it("stores refresh tokens only as SHA-256 digests", async () => {
    const session = await newSession();
    const { keys } = await env.TOKENS.list({ prefix: "refresh:" });
    const names = keys.map((k) => k.name);
    expect(names).toContain(`refresh:${await sha256Hex(session.refresh_token)}`);
    expect(names.some((name) => name.includes(session.refresh_token))).toBe(false);
  });

  it("returns the same successor when a just-spent token is replayed inside the grace window", async () => {
    const session = await newSession();
    const first = await refreshOk(session.refresh_token);
    const replay = await refreshOk(session.refresh_token);
    expect(replay.refresh_token).toBe(first.refresh_token);
    // The family is intact: the successor keeps working.
    await refreshOk(first.refresh_token);
  });

  it("lets two concurrent refreshes inside the grace window both succeed without forking the family", async () => {
    const session = await newSession();
    const [a, b] = await Promise.all([refresh(session.refresh_token), refresh(session.refresh_token)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const [bodyA, bodyB] = (await Promise.all([a.json(), b.json()])) as [TokenResponse, TokenResponse];
    expect(bodyA.refresh_token).toBe(bodyB.refresh_token);
    await refreshOk(bodyA.refresh_token);
  });

  it("revokes the whole family when a spent token comes back after the grace window", async () => {
    const session = await newSession();
    const noGrace = { REFRESH_REUSE_GRACE_SECONDS: "0" };
    const rotated = await sendWithEnv(noGrace, jsonRequest("/auth/refresh", { refresh_token: session.refresh_token }));
    expect(rotated.status).toBe(200);
    const successor = ((await rotated.json()) as TokenResponse).refresh_token;
    // Wait past the (zero-second) window: the clock must move by at least 1 ms.
    await scheduler.wait(5);
    const reuse = await sendWithEnv(noGrace, jsonRequest("/auth/refresh", { refresh_token: session.refresh_token }));
    await expectError(reuse, 400, "invalid_grant");
    // The legitimate-looking successor dies with the family.
    await expectError(await refresh(successor), 400, "invalid_grant");
  });

  it("revokes the family on reuse after the grace window, with an injected clock", async () => {
    const service = new RefreshTokenService(new RefreshTokenStore(env.TOKENS), {
      ttlSeconds: 3600,
      maxAgeSeconds: 7200,
      reuseGraceSeconds: 10,
    });
    const t0 = Date.now();
    const { token } = await service.startFamily("user-clock", t0);
    const next = await service.rotate(token, t0, allowAll);
    const inWindow = await service.rotate(token, t0 + 10_000, allowAll);
    expect(inWindow.token).toBe(next.token);
    const reuses: string[] = [];
    const onReuse = (e: ReuseEvent) => {
      reuses.push(e.familyId);
    };
    await expect(service.rotate(token, t0 + 10_001, { ...allowAll, onReuse })).rejects.toMatchObject({
      code: "invalid_grant",
    });
    expect(reuses).toEqual([next.familyId]);
    await expect(service.rotate(next.token, t0 + 10_002, allowAll)).rejects.toMatchObject({ code: "invalid_grant" });
  });

  it("refuses a token past its expiry even while KV still holds it", async () => {
    const service = new RefreshTokenService(new RefreshTokenStore(env.TOKENS), {
      ttlSeconds: 60,
      maxAgeSeconds: 120,
      reuseGraceSeconds: 10,
    });
    const t0 = Date.now();
    const { token } = await service.startFamily("user-expiry", t0);
    await expect(service.rotate(token, t0 + 60_001, allowAll)).rejects.toMatchObject({ code: "invalid_grant" });
    const a = await service.rotate(token, t0 + 50_000, allowAll);
    const b = await service.rotate(a.token, t0 + 100_000, allowAll);
    // The sliding lifetime (60 s from t0 + 100 s) is cut at the family's absolute cap (t0 + 120 s).
    const record = await new RefreshTokenStore(env.TOKENS).getToken(await sha256Hex(b.token), t0 + 100_000);
    expect(record?.expires_at).toBe(t0 + 120_000);
    await expect(service.rotate(b.token, t0 + 120_001, allowAll)).rejects.toMatchObject({ code: "invalid_grant" });
  });

  it("refuses unknown, malformed and missing refresh tokens", async () => {
    await expectError(await refresh(`elr_${"A".repeat(43)}`), 400, "invalid_grant");
    await expectError(await refresh("not a token"), 400, "invalid_grant");
    await expectError(await postJson("/auth/refresh", {}), 400, "invalid_request");
  });

  it("refuses the refresh token of a user disabled since, without spending it", async () => {
    const session = await newSession();
    await env.DB.prepare("UPDATE users SET disabled_at = ? WHERE id = ?").bind(Date.now(), session.user.id).run();
    await expectError(await refresh(session.refresh_token), 400, "invalid_grant");
    const stored = await new RefreshTokenStore(env.TOKENS).getToken(await sha256Hex(session.refresh_token), Date.now());
    expect(stored?.spent_at).toBeUndefined();
    // Re-enabled, the same token works: the refusal changed nothing.
    await env.DB.prepare("UPDATE users SET disabled_at = NULL WHERE id = ?").bind(session.user.id).run();
    await refreshOk(session.refresh_token);
  });

  it("cannot be forked by an exchange that read a stale (unspent) copy of a token", async () => {
    const store = new RefreshTokenStore(env.TOKENS);
    const settings = { ttlSeconds: 3600, maxAgeSeconds: 7200, reuseGraceSeconds: 10 };
    const service = new RefreshTokenService(store, settings);
    const t0 = Date.now();
    const { token } = await service.startFamily("user-stale", t0);
    const staleCopy = await store.getToken(await sha256Hex(token), t0);
    const s1 = await service.rotate(token, t0, allowAll);
    const s2 = await service.rotate(s1.token, t0 + 1000, allowAll);
    // Another location, its KV view still from before the first exchange, exchanges the token again.
    const stale = new RefreshTokenService(
      {
        getToken: async (hash, now) => (hash === (await sha256Hex(token)) ? staleCopy : store.getToken(hash, now)),
        putToken: (hash, record, now) => store.putToken(hash, record, now),
        getFamily: (id, now) => store.getFamily(id, now),
        putFamily: (id, record, now) => store.putFamily(id, record, now),
      },
      settings,
    );
    const replayed = await stale.rotate(token, t0 + 2000, allowAll);
    expect(replayed.token).toBe(s1.token);
    // s1 is still spent (not reset by the stale writer), and its successor is still s2: one chain.
    expect((await service.rotate(s1.token, t0 + 5000, allowAll)).token).toBe(s2.token);
    await expect(service.rotate(s1.token, t0 + 20_000, allowAll)).rejects.toMatchObject({ code: "invalid_grant" });
  });

  it("does not accept an access token as a refresh token", async () => {
    const session = await newSession();
    await expectError(await refresh(session.access_token), 400, "invalid_grant");
    // The refresh token itself is untouched by the failed attempt.
    await refreshOk(session.refresh_token);
  });
});
