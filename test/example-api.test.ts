// The example API Worker (examples/api-worker), running beside the auth Worker.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, bearer, newSession, send } from "./helpers";

function api(path: string, token?: string): Promise<Response> {
  return env.EXAMPLE_API.fetch(new Request(`https://api.test${path}`, { headers: token ? bearer(token) : {} }));
}

describe("example API Worker", () => {
  it("serves its public route", async () => {
    expect(await (await api("/public")).json()).toEqual({ hello: "world" });
  });

  it.each(["/jwks/me", "/rpc/me"])("accepts a valid token on %s", async (path) => {
    const session = await newSession();
    const response = await api(path, session.access_token);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sub: session.user.id });
  });

  it.each(["/jwks/me", "/rpc/me"])("refuses a missing token on %s", async (path) => {
    const response = await api(path);
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer realm="api"');
  });

  it.each(["/jwks/me", "/rpc/me"])("refuses a revoked token on %s", async (path) => {
    const session = await newSession();
    await send(new Request(`${BASE}/auth/logout`, { method: "POST", headers: bearer(session.access_token) }));
    const response = await api(path, session.access_token);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: "invalid_token" });
  });
});
