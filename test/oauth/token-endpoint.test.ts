import { env } from "cloudflare:workers";
import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { BASE, bearer, expectError, send } from "../helpers";
import { authorizationServer, basic, createClient, postForm, viaWorker } from "./oauth-helpers";

async function machineClient(scope = "posts:read posts:write", extra: Record<string, unknown> = {}) {
  const created = await createClient({
    grant_types: ["client_credentials"],
    scope,
    audiences: ["https://api.test"],
    ...extra,
  });
  return { id: created.client_id, secret: created.client_secret as string };
}

describe("POST /oauth/token: client_credentials", () => {
  it("issues an RFC 9068 token for the client itself, checked by oauth4webapi", async () => {
    const { id, secret } = await machineClient();
    const as = await authorizationServer();
    const client = { client_id: id };
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      oauth.ClientSecretBasic(secret),
      new URLSearchParams({ scope: "posts:read" }),
      viaWorker,
    );
    const result = await oauth.processClientCredentialsResponse(as, client, response);
    expect(result.token_type).toBe("bearer");
    expect(result.scope).toBe("posts:read");
    expect(result.refresh_token).toBeUndefined();
    const [header, payload] = result.access_token
      .split(".")
      .slice(0, 2)
      .map((part) => JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/"))));
    expect(header).toMatchObject({ alg: "ES256", typ: "at+jwt" });
    expect(payload).toMatchObject({
      iss: "https://auth.test",
      sub: id,
      client_id: id,
      aud: "https://api.test",
      scope: "posts:read",
    });
    expect(payload.roles).toBeUndefined();
  });

  it("accepts client_secret_post for a client registered with it, and grants every registered scope when none is asked", async () => {
    const { id, secret } = await machineClient("posts:read", { token_endpoint_auth_method: "client_secret_post" });
    const response = await postForm("/oauth/token", {
      grant_type: "client_credentials",
      client_id: id,
      client_secret: secret,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(await response.json()).toMatchObject({ token_type: "Bearer", scope: "posts:read" });
    // Registered for client_secret_post: Basic is another method, so it fails.
    const viaBasic = await postForm("/oauth/token", { grant_type: "client_credentials" }, basic(id, secret));
    await expectError(viaBasic, 401, "invalid_client");
  });

  it("answers a wrong secret or an unknown client with 401 invalid_client and a Basic challenge", async () => {
    const { id } = await machineClient();
    for (const headers of [basic(id, "wrong"), basic("no-such-client", "x")]) {
      const response = await postForm("/oauth/token", { grant_type: "client_credentials" }, headers);
      await expectError(response, 401, "invalid_client");
      expect(response.headers.get("WWW-Authenticate")).toMatch(/^Basic /);
      expect(response.headers.get("Cache-Control")).toBe("no-store");
    }
    await expectError(await postForm("/oauth/token", { grant_type: "client_credentials" }), 401, "invalid_client");
  });

  it("refuses scopes the client is not registered for, OpenID scopes, and foreign resources", async () => {
    const { id, secret } = await machineClient("posts:read");
    const auth = basic(id, secret);
    await expectError(
      await postForm("/oauth/token", { grant_type: "client_credentials", scope: "posts:delete" }, auth),
      400,
      "invalid_scope",
    );
    await expectError(
      await postForm("/oauth/token", { grant_type: "client_credentials", scope: "openid" }, auth),
      400,
      "invalid_scope",
    );
    await expectError(
      await postForm("/oauth/token", { grant_type: "client_credentials", resource: "https://other.example" }, auth),
      400,
      "invalid_target",
    );
  });

  it("gives a token for a registered resource, as its audience (RFC 8707)", async () => {
    const { id, secret } = await machineClient("posts:read", {
      audiences: ["https://api.test", "https://billing.test"],
    });
    const response = await postForm(
      "/oauth/token",
      { grant_type: "client_credentials", resource: "https://billing.test" },
      basic(id, secret),
    );
    const { access_token } = (await response.json()) as { access_token: string };
    expect(JSON.parse(atob(access_token.split(".")[1] as string)).aud).toBe("https://billing.test");
  });

  it("refuses grants the client did not register, unknown grants, and the password grant", async () => {
    const { id, secret } = await machineClient();
    const auth = basic(id, secret);
    await expectError(
      await postForm("/oauth/token", { grant_type: "refresh_token", refresh_token: "x" }, auth),
      400,
      "unauthorized_client",
    );
    await expectError(
      await postForm("/oauth/token", { grant_type: "password", username: "a", password: "b" }, auth),
      400,
      "unsupported_grant_type",
    );
    await expectError(await postForm("/oauth/token", { grant_type: "implicit" }, auth), 400, "unsupported_grant_type");
    await expectError(await postForm("/oauth/token", {}, auth), 400, "invalid_request");
  });

  it("refuses repeated parameters, JSON bodies and two authentication methods at once", async () => {
    const { id, secret } = await machineClient();
    const repeated = await send(
      new Request(`${BASE}/oauth/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", ...basic(id, secret) },
        body: "grant_type=client_credentials&scope=posts:read&scope=posts:write",
      }),
    );
    await expectError(repeated, 400, "invalid_request");
    const json = await send(
      new Request(`${BASE}/oauth/token`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...basic(id, secret) },
        body: JSON.stringify({ grant_type: "client_credentials" }),
      }),
    );
    await expectError(json, 400, "invalid_request");
    const both = await postForm(
      "/oauth/token",
      { grant_type: "client_credentials", client_secret: secret },
      basic(id, secret),
    );
    await expectError(both, 400, "invalid_request");
  });

  it("locks a client out from one IP after repeated wrong secrets, not from others", async () => {
    const { id, secret } = await machineClient();
    const ip = { "CF-Connecting-IP": "203.0.113.77" };
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const response = await postForm(
        "/oauth/token",
        { grant_type: "client_credentials" },
        { ...basic(id, "wrong"), ...ip },
      );
      statuses.push(response.status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    const right = await postForm("/oauth/token", { grant_type: "client_credentials" }, { ...basic(id, secret), ...ip });
    expect(right.status).toBe(429);
    const elsewhere = await postForm("/oauth/token", { grant_type: "client_credentials" }, basic(id, secret));
    expect(elsewhere.status).toBe(200);
  });

  it("is not accepted by the server's own account endpoints", async () => {
    const { id, secret } = await machineClient();
    const response = await postForm("/oauth/token", { grant_type: "client_credentials" }, basic(id, secret));
    const { access_token } = (await response.json()) as { access_token: string };
    await expectError(
      await send(new Request(`${BASE}/auth/me`, { headers: bearer(access_token) })),
      401,
      "invalid_token",
    );
  });
});

describe("revocation (RFC 7009) and introspection (RFC 7662)", () => {
  async function tokenFor(client: { id: string; secret: string }) {
    const response = await postForm(
      "/oauth/token",
      { grant_type: "client_credentials" },
      basic(client.id, client.secret),
    );
    return ((await response.json()) as { access_token: string }).access_token;
  }

  it("introspects the client's own token, revokes it, and then answers inactive", async () => {
    const client = await machineClient();
    const token = await tokenFor(client);
    const as = await authorizationServer();
    const auth = oauth.ClientSecretBasic(client.secret);
    const introspected = await oauth.processIntrospectionResponse(
      as,
      { client_id: client.id },
      await oauth.introspectionRequest(as, { client_id: client.id }, auth, token, viaWorker),
    );
    expect(introspected).toMatchObject({
      active: true,
      client_id: client.id,
      sub: client.id,
      iss: "https://auth.test",
      aud: "https://api.test",
      scope: "posts:read posts:write",
      token_type: "Bearer",
    });
    const revoked = await oauth.revocationRequest(as, { client_id: client.id }, auth, token, viaWorker);
    await oauth.processRevocationResponse(revoked);
    const after = await postForm("/oauth/introspect", { token }, basic(client.id, client.secret));
    expect(await after.json()).toEqual({ active: false });
    const jti = JSON.parse(atob(token.split(".")[1] as string)).jti;
    expect(await env.REVOCATIONS.get(`revoked-jti:${jti}`)).not.toBeNull();
  });

  it("shows another client's token as inactive and will not revoke it, but a resource server sees its audience", async () => {
    const owner = await machineClient();
    const stranger = await machineClient();
    const resourceServer = await machineClient("posts:read", { served_audiences: ["https://api.test"] });
    const token = await tokenFor(owner);
    const asStranger = await postForm("/oauth/introspect", { token }, basic(stranger.id, stranger.secret));
    expect(await asStranger.json()).toEqual({ active: false });
    const revokeByStranger = await postForm("/oauth/revoke", { token }, basic(stranger.id, stranger.secret));
    expect(revokeByStranger.status).toBe(200);
    const asServer = await postForm("/oauth/introspect", { token }, basic(resourceServer.id, resourceServer.secret));
    expect(await asServer.json()).toMatchObject({ active: true, client_id: owner.id });
  });

  it("answers garbage and unknown tokens with 200 / inactive, and needs client authentication", async () => {
    const client = await machineClient();
    const auth = basic(client.id, client.secret);
    expect((await postForm("/oauth/revoke", { token: "nonsense" }, auth)).status).toBe(200);
    expect((await postForm("/oauth/revoke", { token: "elr_AAAAAAAAAAAAAAAAAAAAAA.AAAA" }, auth)).status).toBe(200);
    expect(await (await postForm("/oauth/introspect", { token: "a.b.c" }, auth)).json()).toEqual({ active: false });
    await expectError(await postForm("/oauth/revoke", {}, auth), 400, "invalid_request");
    await expectError(await postForm("/oauth/introspect", { token: "x" }), 401, "invalid_client");
  });
});

describe("discovery", () => {
  it("serves the same document at both well-known paths, true to what is built", async () => {
    const oidc = (await (await send(`${BASE}/.well-known/openid-configuration`)).json()) as Record<string, string[]>;
    const rfc8414 = await (await send(`${BASE}/.well-known/oauth-authorization-server`)).json();
    expect(oidc).toEqual(rfc8414);
    expect(oidc).toMatchObject({
      issuer: "https://auth.test",
      token_endpoint: "https://auth.test/oauth/token",
      jwks_uri: "https://auth.test/.well-known/jwks.json",
      grant_types_supported: expect.arrayContaining(["client_credentials", "refresh_token"]),
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
      id_token_signing_alg_values_supported: expect.arrayContaining(["RS256", "ES256"]),
      scopes_supported: expect.arrayContaining(["openid", "email", "offline_access", "posts:read"]),
    });
    expect(oidc.scopes_supported).not.toContain("users:*");
  });
});
