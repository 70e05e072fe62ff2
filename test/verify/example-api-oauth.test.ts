// The example API Worker (examples/api-worker) taking OAuth access tokens: a
// user's token delegated to a client through the code flow, and a client's
// own from client_credentials, checked by scope on GET /jwks/posts, with
// revocation (POST /oauth/revoke) seen at the edge through KV.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { bearer, grantRole, signupAndVerify, userRow } from "../helpers";
import { exchange, loginAndConsent, newPublicClient, startFlow } from "../oauth/flow";
import { basic, createClient, postForm, TestBrowser } from "../oauth/oauth-helpers";

const API_AUDIENCE = "https://api.test";

function api(path: string, token: string): Promise<Response> {
  return env.EXAMPLE_API.fetch(new Request(`https://api.test${path}`, { headers: bearer(token) }));
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(atob((token.split(".")[1] as string).replace(/-/g, "+").replace(/_/g, "/")));
}

/** A user holding posts:read (the viewer role), granted before any flow: the server drops scopes the user lacks. */
async function viewer(): Promise<{ email: string; id: string }> {
  const email = await signupAndVerify();
  const id = (await userRow(email))?.id as string;
  await grantRole(id, "viewer");
  return { email, id };
}

/** A public client an admin made for the example API, allowed to ask for posts:read. */
function postsClient() {
  return newPublicClient({ scope: "openid posts:read", audiences: [API_AUDIENCE] });
}

async function userToken(client: { client_id: string }, email: string, scope: string): Promise<string> {
  const flow = await startFlow(client, { scope });
  const tokens = await exchange(flow, await loginAndConsent(new TestBrowser(), flow, email));
  return tokens.access_token;
}

describe("example API Worker: OAuth access tokens on GET /jwks/posts", () => {
  it("accepts a user's token delegated with posts:read, and says which user and client", async () => {
    const user = await viewer();
    const client = await postsClient();
    const token = await userToken(client, user.email, "openid posts:read");
    expect(claimsOf(token)).toMatchObject({
      sub: user.id,
      client_id: client.client_id,
      aud: API_AUDIENCE,
      scope: "openid posts:read",
    });
    const response = await api("/jwks/posts", token);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { posts: unknown[]; sub: string; client_id: string };
    expect(body).toMatchObject({ sub: user.id, client_id: client.client_id });
    expect(body.posts.length).toBeGreaterThan(0);
  });

  it("refuses the same user's token without posts:read with 403 insufficient_scope", async () => {
    const user = await viewer();
    const client = await postsClient();
    const token = await userToken(client, user.email, "openid");
    expect(claimsOf(token)).toMatchObject({ sub: user.id, client_id: client.client_id, scope: "openid" });
    // The token itself is good: only the scope is missing.
    expect((await api("/jwks/me", token)).status).toBe(200);
    const response = await api("/jwks/posts", token);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: "insufficient_scope" });
    expect(response.headers.get("WWW-Authenticate")).toBe('Bearer error="insufficient_scope", scope="posts:read"');
  });

  it("accepts a client_credentials token with posts:read; its subject is the client", async () => {
    const machine = await createClient({
      client_name: "Posts importer",
      grant_types: ["client_credentials"],
      scope: "posts:read",
      audiences: [API_AUDIENCE],
    });
    const issued = await postForm(
      "/oauth/token",
      { grant_type: "client_credentials", scope: "posts:read" },
      basic(machine.client_id, machine.client_secret as string),
    );
    expect(issued.status).toBe(200);
    const { access_token } = (await issued.json()) as { access_token: string };
    const response = await api("/jwks/posts", access_token);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sub: machine.client_id, client_id: machine.client_id });
  });

  it("refuses the user's token with 401 once the client revoked it (the revocation list in KV)", async () => {
    const user = await viewer();
    const client = await postsClient();
    const token = await userToken(client, user.email, "openid posts:read");
    expect((await api("/jwks/posts", token)).status).toBe(200);
    // A public client revokes with its client_id alone (RFC 7009 §2.1).
    const revoked = await postForm("/oauth/revoke", {
      token,
      token_type_hint: "access_token",
      client_id: client.client_id,
    });
    expect(revoked.status).toBe(200);
    const response = await api("/jwks/posts", token);
    expect(response.status).toBe(401);
    const body = (await response.json()) as { error: string; error_description: string };
    expect(body.error).toBe("invalid_token");
    expect(body.error_description).toMatch(/revoked/);
  });
});
