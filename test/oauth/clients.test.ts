import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, bearer, expectError, newSession, postJson, send } from "../helpers";
import { adminAccessToken, basic, createClient, postForm } from "./oauth-helpers";

const admin = async (path: string, init: RequestInit = {}) =>
  send(
    new Request(`${BASE}${path}`, {
      ...init,
      headers: { "Content-Type": "application/json", ...bearer(await adminAccessToken()), ...(init.headers ?? {}) },
    }),
  );

describe("the admin API for OAuth clients", () => {
  it("creates a confidential client whose secret is shown once and stored only as a hash", async () => {
    const created = await createClient({ client_name: "Photos", redirect_uris: ["https://photos.example/cb"] });
    expect(created.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({
      client_name: "Photos",
      token_endpoint_auth_method: "client_secret_basic",
      grant_types: ["authorization_code"],
      response_types: ["code"],
      // Until an admin assigns an API, its tokens are for edgelock itself: no API accepts them.
      audiences: ["https://auth.test"],
      first_party: false,
    });
    const row = await env.DB.prepare("SELECT * FROM oauth_clients WHERE id = ?").bind(created.client_id).first();
    expect(JSON.stringify(row)).not.toContain(created.client_secret as string);
    const read = await admin(`/admin/clients/${created.client_id}`);
    expect(read.status).toBe(200);
    expect(await read.json()).not.toHaveProperty("client_secret");
    const audit = await env.DB.prepare(
      "SELECT * FROM audit_log WHERE event = 'oauth_client_created' AND details LIKE ?",
    )
      .bind(`%${created.client_id}%`)
      .first();
    expect(audit).not.toBeNull();
  });

  it("refuses redirect URIs that are not https (loopback excepted) or carry a fragment", async () => {
    const token = bearer(await adminAccessToken());
    for (const uri of [
      "http://photos.example/cb",
      "https://photos.example/cb#frag",
      "javascript:alert(1)",
      "/relative",
    ]) {
      const response = await postJson("/admin/clients", { redirect_uris: [uri] }, token);
      await expectError(response, 400, "invalid_redirect_uri");
    }
    const loopback = await createClient({ redirect_uris: ["http://127.0.0.1/cb"], token_endpoint_auth_method: "none" });
    expect(loopback.client_secret).toBeUndefined();
  });

  it("refuses client_credentials for a public client and unknown scopes", async () => {
    const token = bearer(await adminAccessToken());
    await expectError(
      await postJson(
        "/admin/clients",
        { grant_types: ["client_credentials"], token_endpoint_auth_method: "none" },
        token,
      ),
      400,
      "invalid_client_metadata",
    );
    await expectError(
      await postJson("/admin/clients", { grant_types: ["client_credentials"], scope: "posts:* root" }, token),
      400,
      "invalid_client_metadata",
    );
    const count = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM oauth_clients WHERE token_endpoint_auth_method = 'none' AND grant_types LIKE '%client_credentials%'",
    ).first<{ n: number }>();
    expect(count?.n).toBe(0);
  });

  it("updates metadata, rotates the secret (the old one stops working) and deletes", async () => {
    const created = await createClient({ grant_types: ["client_credentials"], scope: "posts:read" });
    const patched = await admin(`/admin/clients/${created.client_id}`, {
      method: "PATCH",
      body: JSON.stringify({ client_name: "Renamed", scope: "posts:read posts:write" }),
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ client_name: "Renamed", scope: "posts:read posts:write" });

    const rotated = await admin(`/admin/clients/${created.client_id}/secret`, { method: "POST" });
    const { client_secret } = (await rotated.json()) as { client_secret: string };
    const old = await postForm(
      "/oauth/token",
      { grant_type: "client_credentials" },
      basic(created.client_id, created.client_secret as string),
    );
    expect(old.status).toBe(401);
    const fresh = await postForm(
      "/oauth/token",
      { grant_type: "client_credentials" },
      basic(created.client_id, client_secret),
    );
    expect(fresh.status).toBe(200);

    expect((await admin(`/admin/clients/${created.client_id}`, { method: "DELETE" })).status).toBe(204);
    expect((await admin(`/admin/clients/${created.client_id}`)).status).toBe(404);
    const gone = await postForm(
      "/oauth/token",
      { grant_type: "client_credentials" },
      basic(created.client_id, client_secret),
    );
    expect(gone.status).toBe(401);
  });

  it("refuses to turn a confidential client public", async () => {
    const created = await createClient({ redirect_uris: ["https://a.example/cb"] });
    const response = await admin(`/admin/clients/${created.client_id}`, {
      method: "PATCH",
      body: JSON.stringify({ token_endpoint_auth_method: "none" }),
    });
    await expectError(response, 400, "invalid_client_metadata");
  });

  it("lists clients page by page", async () => {
    await createClient({ redirect_uris: ["https://b.example/cb"] });
    await createClient({ redirect_uris: ["https://c.example/cb"] });
    const first = await admin("/admin/clients?limit=1");
    const page = (await first.json()) as { clients: unknown[]; next_cursor: string };
    expect(page.clients).toHaveLength(1);
    const second = await admin(`/admin/clients?limit=1&cursor=${page.next_cursor}`);
    expect(((await second.json()) as { clients: { client_id: string }[] }).clients[0]?.client_id).not.toBe(
      page.next_cursor,
    );
  });

  it("is closed to users without the clients permission", async () => {
    const user = await newSession();
    await expectError(await postJson("/admin/clients", {}, bearer(user.access_token)), 403, "insufficient_scope");
    await expectError(
      await send(new Request(`${BASE}/admin/clients`, { headers: bearer(user.access_token) })),
      403,
      "insufficient_scope",
    );
  });
});
