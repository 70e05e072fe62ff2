import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { sha256Hex } from "../../src/lib/crypto/digest";
import { randomId, randomToken } from "../../src/lib/crypto/random";
import { type FamilyState, RefreshTokenService, type ReuseEvent } from "../../src/sessions/refresh-rotation";
import { RefreshTokenStore } from "../../src/sessions/refresh-token-store";
import { expectError, jsonRequest, newSession, postJson, randomIp, sendWithEnv, type TokenResponse } from "../helpers";

/**
 * Families for the service-level tests (injected clock): kept in memory as their
 * `sessions` rows would hold them. Through HTTP, the real rows in D1 are used.
 */
function families() {
  const rows = new Map<string, FamilyState>();
  const reuses: string[] = [];
  const hooks = {
    load: async (familyId: string) => ({ family: rows.get(familyId) ?? null }),
    authorize: () => {},
    revokeFamily: async (event: ReuseEvent) => {
      reuses.push(event.familyId);
      const row = rows.get(event.familyId);
      if (row) row.revoked_at ??= Date.now();
    },
  };
  const start = async (service: RefreshTokenService, userId: string, now: number, maxAgeMs = 7_200_000) => {
    const family = { familyId: randomId(), userId, expiresAt: now + maxAgeMs };
    rows.set(family.familyId, { user_id: userId, created_at: now, expires_at: family.expiresAt, revoked_at: null });
    return { token: await service.startFamily(family, now), ...family };
  };
  return { hooks, start, reuses };
}

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

  it("treats an older ancestor replayed inside the grace window as reuse, and ends the family", async () => {
    const session = await newSession();
    const second = await refreshOk(session.refresh_token);
    const third = await refreshOk(second.refresh_token);
    // Seconds after RT1 → RT2 → RT3, RT1 comes back: its successor RT2 is spent too.
    await expectError(await refresh(session.refresh_token), 400, "invalid_grant");
    await expectError(await refresh(third.refresh_token), 400, "invalid_grant");
    await expectError(await refresh(second.refresh_token), 400, "invalid_grant");
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
      reuseGraceSeconds: 10,
    });
    const { hooks, start, reuses } = families();
    const t0 = Date.now();
    const { token } = await start(service, "user-clock", t0);
    const next = await service.rotate(token, t0, hooks);
    const inWindow = await service.rotate(token, t0 + 10_000, hooks);
    expect(inWindow.token).toBe(next.token);
    expect(reuses).toEqual([]);
    await expect(service.rotate(token, t0 + 10_001, hooks)).rejects.toMatchObject({ code: "invalid_grant" });
    expect(reuses).toEqual([next.familyId]);
    await expect(service.rotate(next.token, t0 + 10_002, hooks)).rejects.toMatchObject({ code: "invalid_grant" });
  });

  it("refuses a token past its expiry even while KV still holds it", async () => {
    const service = new RefreshTokenService(new RefreshTokenStore(env.TOKENS), {
      ttlSeconds: 60,
      reuseGraceSeconds: 10,
    });
    const { hooks, start } = families();
    const t0 = Date.now();
    const { token } = await start(service, "user-expiry", t0, 120_000);
    await expect(service.rotate(token, t0 + 60_001, hooks)).rejects.toMatchObject({ code: "invalid_grant" });
    const a = await service.rotate(token, t0 + 50_000, hooks);
    const b = await service.rotate(a.token, t0 + 100_000, hooks);
    // The sliding lifetime (60 s from t0 + 100 s) is cut at the family's absolute cap (t0 + 120 s).
    const record = await new RefreshTokenStore(env.TOKENS).getToken(await sha256Hex(b.token), t0 + 100_000);
    expect(record?.expires_at).toBe(t0 + 120_000);
    await expect(service.rotate(b.token, t0 + 120_001, hooks)).rejects.toMatchObject({ code: "invalid_grant" });
  });

  it("refuses unknown, malformed and missing refresh tokens", async () => {
    await expectError(await refresh(`elr_${"A".repeat(22)}.${"A".repeat(43)}`), 400, "invalid_grant");
    await expectError(await refresh(`elr_${"A".repeat(43)}`), 400, "invalid_grant");
    await expectError(await refresh(`elr_.${"A".repeat(43)}`), 400, "invalid_grant");
    await expectError(await refresh(`elr_${"A".repeat(22)}.`), 400, "invalid_grant");
    await expectError(await refresh(`elr_${"A".repeat(22)}.${"A".repeat(43)}.x`), 400, "invalid_grant");
    await expectError(await refresh("not a token"), 400, "invalid_grant");
    await expectError(await postJson("/auth/refresh", {}), 400, "invalid_request");
  });

  it("refuses the refresh token of a user disabled since, without spending it", async () => {
    const session = await newSession();
    await env.DB.prepare("UPDATE users SET disabled_at = ? WHERE id = ?").bind(Date.now(), session.user.id).run();
    await expectError(await refresh(session.refresh_token), 400, "invalid_grant");
    expect(await spentAt(session.refresh_token)).toBeNull();
    // Re-enabled, the same token works: the refusal changed nothing.
    await env.DB.prepare("UPDATE users SET disabled_at = NULL WHERE id = ?").bind(session.user.id).run();
    await refreshOk(session.refresh_token);
  });

  it("cannot be forked, nor a spent token made live again, by an exchange at a location with a stale view", async () => {
    const store = new RefreshTokenStore(env.TOKENS);
    const settings = { ttlSeconds: 3600, reuseGraceSeconds: 10 };
    const service = new RefreshTokenService(store, settings);
    const { hooks, start } = families();
    const t0 = Date.now();
    const { token } = await start(service, "user-stale", t0);
    const s1 = await service.rotate(token, t0, hooks);
    const s2 = await service.rotate(s1.token, t0 + 1000, hooks);
    // Another location, whose KV view does not have s1's record yet, exchanges the token again.
    const s1Hash = await sha256Hex(s1.token);
    const stale = new RefreshTokenService(
      {
        getToken: async (hash, now) => (hash === s1Hash ? null : store.getToken(hash, now)),
        putToken: (hash, record, now) => store.putToken(hash, record, now),
      },
      settings,
    );
    const replayed = await stale.rotate(token, t0 + 2000, hooks);
    expect(replayed.token).toBe(s1.token);
    // s1 is still spent (its successor's record says so, and nobody rewrote that), and its successor is still s2.
    expect((await service.inspect(s1.token, t0 + 5000))?.spentAt).toBe(t0 + 1000);
    expect((await service.rotate(s1.token, t0 + 5000, hooks)).token).toBe(s2.token);
    await expect(service.rotate(s1.token, t0 + 20_000, hooks)).rejects.toMatchObject({ code: "invalid_grant" });
  });

  it("spends a token by writing its successor's record only: the presented token's record never changes", async () => {
    const session = await newSession();
    const store = new RefreshTokenStore(env.TOKENS);
    const before = await store.getToken(await sha256Hex(session.refresh_token), Date.now());
    expect(await spentAt(session.refresh_token)).toBeNull();
    const next = await refreshOk(session.refresh_token);
    expect(await store.getToken(await sha256Hex(session.refresh_token), Date.now())).toEqual(before);
    const successor = await store.getToken(await sha256Hex(next.refresh_token), Date.now());
    expect(await spentAt(session.refresh_token)).toBe(successor?.issued_at);
    expect(await spentAt(next.refresh_token)).toBeNull();
  });

  it("names its family, and a token moved to another family is refused without touching either", async () => {
    const [a, b] = [await newSession(), await newSession()];
    const familyOf = (token: string) => token.slice("elr_".length).split(".")[0];
    expect(familyOf(a.refresh_token)).toBe(await familyIdOf(a.refresh_token));
    const moved = `elr_${familyOf(b.refresh_token)}.${a.refresh_token.split(".")[1]}`;
    await expectError(await refresh(moved), 400, "invalid_grant");
    expect(await spentAt(a.refresh_token)).toBeNull();
    expect(await spentAt(b.refresh_token)).toBeNull();
    await refreshOk(a.refresh_token);
    await refreshOk(b.refresh_token);
  });

  it("refuses a token whose record belongs to another family than the one it names, and writes nothing", async () => {
    const store = new RefreshTokenStore(env.TOKENS);
    const service = new RefreshTokenService(store, { ttlSeconds: 3600, reuseGraceSeconds: 10 });
    const { hooks, start } = families();
    const t0 = Date.now();
    const named = await start(service, "user-named", t0);
    const other = await start(service, "user-named", t0);
    // A record (as if planted) under a token that names one family but says it is the other's.
    const token = `elr_${named.familyId}.${randomToken(32)}`;
    await store.putToken(
      await sha256Hex(token),
      {
        family_id: other.familyId,
        user_id: "user-named",
        seed: randomToken(32),
        issued_at: t0,
        expires_at: t0 + 3_600_000,
      },
      t0,
    );
    const writes: string[] = [];
    const watched = new RefreshTokenService(
      {
        getToken: (hash, now) => store.getToken(hash, now),
        putToken: async (hash, record, now) => {
          writes.push(hash);
          await store.putToken(hash, record, now);
        },
      },
      { ttlSeconds: 3600, reuseGraceSeconds: 10 },
    );
    await expect(watched.rotate(token, t0, hooks)).rejects.toMatchObject({ code: "invalid_grant" });
    expect(writes).toEqual([]);
    expect(await watched.inspect(token, t0)).toBeNull();
    expect(await watched.familyOf(token, t0)).toBeNull();
  });

  it("refuses an unknown token while D1 is failing, leaving no unhandled rejection behind", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const brokenD1 = {
        prepare: () => ({ bind: () => ({}) }),
        batch: async () => {
          throw new Error("D1 unavailable");
        },
      };
      const response = await sendWithEnv(
        { DB: brokenD1 },
        jsonRequest("/auth/refresh", { refresh_token: `elr_${randomId()}.${randomToken(32)}` }),
      );
      await expectError(response, 400, "invalid_grant");
    } finally {
      log.mockRestore();
    }
  });

  it("does not accept an access token as a refresh token", async () => {
    const session = await newSession();
    const refused = await refresh(session.access_token);
    expect(refused.status).toBe(400);
    // Refused by shape (longer than any refresh token: invalid_request) or by lookup (invalid_grant).
    expect(["invalid_grant", "invalid_request"]).toContain(((await refused.json()) as { error: string }).error);
    // The refresh token itself is untouched by the failed attempt.
    await refreshOk(session.refresh_token);
  });

  it("refuses a token whose family row is gone from D1, without spending it", async () => {
    const session = await newSession();
    const familyId = (await familyIdOf(session.refresh_token)) ?? "";
    const row = await env.DB.prepare("SELECT * FROM sessions WHERE id = ?").bind(familyId).first();
    expect(row?.kind).toBe("refresh");
    await env.DB.prepare("DELETE FROM sessions WHERE id = ?").bind(familyId).run();
    await expectError(await refresh(session.refresh_token), 400, "invalid_grant");
    expect(await spentAt(session.refresh_token)).toBeNull();
  });

  it("over the per-IP limit answers 429 before anything about the token, and spends nothing", async () => {
    const session = await newSession();
    const ip = randomIp();
    const limits = { RATE_LIMIT_REFRESH_PER_IP: "1" };
    const call = (token: string) =>
      sendWithEnv(limits, jsonRequest("/auth/refresh", { refresh_token: token }, { "CF-Connecting-IP": ip }));
    await expectError(await call(`elr_${"B".repeat(22)}.${"B".repeat(43)}`), 400, "invalid_grant");
    // Over the limit: a valid token and an unknown one get the same answer.
    const valid = await call(session.refresh_token);
    await expectError(valid, 429, "too_many_requests");
    expect(valid.headers.get("Retry-After")).toMatch(/^\d+$/);
    await expectError(await call(`elr_${"C".repeat(22)}.${"C".repeat(43)}`), 429, "too_many_requests");
    expect(await spentAt(session.refresh_token)).toBeNull();
    // From another address the token still works.
    await refreshOk(session.refresh_token);
  });

  it("over the per-IP limit answers 429 even when storage fails, so errors tell nothing either", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const session = await newSession();
      const ip = randomIp();
      const brokenKv = {
        get: async () => {
          throw new Error("KV unavailable");
        },
      };
      const call = (overrides: Record<string, unknown>) =>
        sendWithEnv(
          { RATE_LIMIT_REFRESH_PER_IP: "1", ...overrides },
          jsonRequest("/auth/refresh", { refresh_token: session.refresh_token }, { "CF-Connecting-IP": ip }),
        );
      // Within the limit, the storage error is a server error.
      await expectError(await call({ TOKENS: brokenKv }), 500, "server_error");
      // Past it, the same request is refused by the limit first.
      await expectError(await call({ TOKENS: brokenKv }), 429, "too_many_requests");
    } finally {
      log.mockRestore();
    }
  });

  it("over the per-IP limit costs no D1 read, whatever family the token names", async () => {
    const session = await newSession();
    const ip = randomIp();
    let batches = 0;
    const countingD1 = {
      prepare: (sql: string) => env.DB.prepare(sql),
      batch: (statements: D1PreparedStatement[]) => {
        batches++;
        return env.DB.batch(statements);
      },
    };
    const forged = `elr_${(await familyIdOf(session.refresh_token)) ?? ""}.${randomToken(32)}`;
    const call = () =>
      sendWithEnv(
        { RATE_LIMIT_REFRESH_PER_IP: "1", DB: countingD1 },
        jsonRequest("/auth/refresh", { refresh_token: forged }, { "CF-Connecting-IP": ip }),
      );
    await expectError(await call(), 400, "invalid_grant");
    const within = batches;
    await expectError(await call(), 429, "too_many_requests");
    expect(batches).toBe(within);
  });

  it("carries the RateLimit fields on an allowed refresh", async () => {
    const session = await newSession();
    const response = await refresh(session.refresh_token);
    expect(response.status).toBe(200);
    expect(response.headers.get("RateLimit-Policy")).toMatch(/^"refresh";q=\d+;w=\d+$/);
    expect(response.headers.get("RateLimit")).toMatch(/^"refresh";r=\d+;t=\d+$/);
  });

  it("fails closed with 503 when the rate limiter is unreachable, and spends nothing", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const session = await newSession();
      const broken = {
        idFromName: () => ({}),
        get: () => {
          throw new Error("Durable Object unreachable");
        },
      };
      const response = await sendWithEnv(
        { RATE_LIMITER: broken },
        jsonRequest("/auth/refresh", { refresh_token: session.refresh_token }),
      );
      await expectError(response, 503, "temporarily_unavailable");
      expect(await spentAt(session.refresh_token)).toBeNull();
      await refreshOk(session.refresh_token);
    } finally {
      log.mockRestore();
    }
  });

  it("still answers when writing the family's last use fails, and logs the failure", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const session = await newSession();
      const familyId = (await familyIdOf(session.refresh_token)) ?? "";
      await env.DB.prepare("UPDATE sessions SET last_seen_at = ? WHERE id = ?")
        .bind(Date.now() - 120_000, familyId)
        .run();
      const response = await sendWithEnv(
        { DB: d1FailingOn("SET last_seen_at") },
        jsonRequest("/auth/refresh", { refresh_token: session.refresh_token }),
      );
      expect(response.status).toBe(200);
      await refreshOk(((await response.json()) as TokenResponse).refresh_token);
      expect(log.mock.calls.some(([line]) => String(line).includes('"event":"session_touch_failed"'))).toBe(true);
    } finally {
      log.mockRestore();
    }
  });

  it("records the family's last use for the session list at most once a minute", async () => {
    const session = await newSession();
    const familyId = (await familyIdOf(session.refresh_token)) ?? "";
    const lastSeen = async () =>
      (await env.DB.prepare("SELECT last_seen_at FROM sessions WHERE id = ?")
        .bind(familyId)
        .first<number>("last_seen_at")) ?? 0;
    const longAgo = Date.now() - 120_000;
    await env.DB.prepare("UPDATE sessions SET last_seen_at = ? WHERE id = ?").bind(longAgo, familyId).run();
    const exchange = (token: string) => sendWithEnv({}, jsonRequest("/auth/refresh", { refresh_token: token }));
    const first = await exchange(session.refresh_token);
    expect(first.status).toBe(200);
    const touched = await lastSeen();
    expect(touched).toBeGreaterThan(longAgo);
    // A minute has not passed: the next refresh leaves it as it is.
    const second = await exchange(((await first.json()) as TokenResponse).refresh_token);
    expect(second.status).toBe(200);
    expect(await lastSeen()).toBe(touched);
  });
});

/** A D1 binding whose statements fail when their SQL contains `failing`; all else is the real D1. */
function d1FailingOn(failing: string) {
  const fail = async () => {
    throw new Error(`D1 unavailable for: ${failing}`);
  };
  return {
    prepare: (sql: string) => {
      const statement = env.DB.prepare(sql);
      if (!sql.includes(failing)) return statement;
      return { bind: () => ({ run: fail, first: fail, all: fail }) };
    },
    batch: (statements: D1PreparedStatement[]) => env.DB.batch(statements),
  };
}

async function familyIdOf(refreshToken: string): Promise<string | undefined> {
  return (await new RefreshTokenStore(env.TOKENS).getToken(await sha256Hex(refreshToken), Date.now()))?.family_id;
}

/** When the token was spent (null: not yet), as the service sees it. */
async function spentAt(refreshToken: string): Promise<number | null | undefined> {
  const service = new RefreshTokenService(new RefreshTokenStore(env.TOKENS), {
    ttlSeconds: 3600,
    reuseGraceSeconds: 10,
  });
  return (await service.inspect(refreshToken, Date.now()))?.spentAt;
}
