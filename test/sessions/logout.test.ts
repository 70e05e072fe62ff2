import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, bearer, expectError, login, newSession, postJson, send } from "../helpers";

function me(accessToken: string): Promise<Response> {
  return send(new Request(`${BASE}/auth/me`, { headers: bearer(accessToken) }));
}

function logout(accessToken: string, body?: unknown): Promise<Response> {
  if (body === undefined)
    return send(new Request(`${BASE}/auth/logout`, { method: "POST", headers: bearer(accessToken) }));
  return postJson("/auth/logout", body, bearer(accessToken));
}

describe("POST /auth/logout", () => {
  it("answers 204; the access token and the session's refresh tokens stop working", async () => {
    const session = await newSession();
    expect((await me(session.access_token)).status).toBe(200);
    const response = await logout(session.access_token);
    expect(response.status).toBe(204);
    await expectError(await me(session.access_token), 401, "invalid_token");
    await expectError(await postJson("/auth/refresh", { refresh_token: session.refresh_token }), 400, "invalid_grant");
  });

  it("ends the family of a rotated session too (the sid follows the family)", async () => {
    const session = await newSession();
    const refreshed = await postJson("/auth/refresh", { refresh_token: session.refresh_token });
    const next = (await refreshed.json()) as { access_token: string; refresh_token: string };
    expect((await logout(next.access_token)).status).toBe(204);
    await expectError(await postJson("/auth/refresh", { refresh_token: next.refresh_token }), 400, "invalid_grant");
  });

  it("kills every access token of the session, not only the one presented", async () => {
    const session = await newSession();
    const refreshed = await postJson("/auth/refresh", { refresh_token: session.refresh_token });
    const later = (await refreshed.json()) as { access_token: string };
    expect((await logout(session.access_token)).status).toBe(204);
    await expectError(await me(later.access_token), 401, "invalid_token");
  });

  it("keeps a revoked token revoked through the verifiers' clock tolerance after exp", async () => {
    const session = await newSession();
    expect((await logout(session.access_token)).status).toBe(204);
    const { containerFor } = await import("../../src/app/container");
    const claims = JSON.parse(atob(session.access_token.split(".")[1] ?? "")) as { exp: number };
    // 10 s after exp the token is still inside the 30 s tolerance: it must still read as revoked.
    await expect(
      containerFor(env).accessTokens.verify(session.access_token, (claims.exp + 10) * 1000),
    ).rejects.toMatchObject({ code: "invalid_token", message: "the access token has been revoked" });
  });

  it("leaves the user's other sessions alive", async () => {
    const session = await newSession();
    const other = await login(session.email);
    expect((await logout(session.access_token, { refresh_token: session.refresh_token })).status).toBe(204);
    expect((await me(other.access_token)).status).toBe(200);
    expect((await postJson("/auth/refresh", { refresh_token: other.refresh_token })).status).toBe(200);
  });

  it("ignores another user's refresh token in the body instead of revoking it", async () => {
    const mine = await newSession();
    const theirs = await newSession();
    expect((await logout(mine.access_token, { refresh_token: theirs.refresh_token })).status).toBe(204);
    expect((await postJson("/auth/refresh", { refresh_token: theirs.refresh_token })).status).toBe(200);
  });

  it("requires a bearer token and refuses malformed JSON without logging out", async () => {
    await expectError(await send(new Request(`${BASE}/auth/logout`, { method: "POST" })), 401, "invalid_token");
    const session = await newSession();
    await expectError(await postJson("/auth/logout", "{oops", bearer(session.access_token)), 400, "invalid_request");
    expect((await me(session.access_token)).status).toBe(200);
  });
});

describe("POST /auth/logout-all", () => {
  it("kills every refresh token and every earlier access token of the user", async () => {
    const first = await newSession();
    const second = await login(first.email);
    const response = await send(
      new Request(`${BASE}/auth/logout-all`, { method: "POST", headers: bearer(first.access_token) }),
    );
    expect(response.status).toBe(204);
    for (const session of [first, second]) {
      await expectError(await me(session.access_token), 401, "invalid_token");
      await expectError(
        await postJson("/auth/refresh", { refresh_token: session.refresh_token }),
        400,
        "invalid_grant",
      );
    }
  });

  it("lets the user log in again straight away", async () => {
    const session = await newSession();
    await send(new Request(`${BASE}/auth/logout-all`, { method: "POST", headers: bearer(session.access_token) }));
    const fresh = await login(session.email);
    expect((await me(fresh.access_token)).status).toBe(200);
    expect((await postJson("/auth/refresh", { refresh_token: fresh.refresh_token })).status).toBe(200);
  });

  it("does not touch other users", async () => {
    const mine = await newSession();
    const theirs = await newSession();
    await send(new Request(`${BASE}/auth/logout-all`, { method: "POST", headers: bearer(mine.access_token) }));
    expect((await me(theirs.access_token)).status).toBe(200);
  });
});
