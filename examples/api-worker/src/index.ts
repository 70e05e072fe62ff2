/**
 * An example API Worker protected by edgelock. Two ways to check a caller:
 *   GET /jwks/*  the verifier library over the auth server's JWKS (works anywhere;
 *                keys cached in memory and in the Cache API), with revocation checks
 *                when the REVOCATIONS namespace is bound; GET /jwks/posts also needs
 *                the `posts:read` scope, which only OAuth access tokens carry (a user's
 *                delegated to a client, or a client's own from client_credentials)
 *   GET /signature-only/*  the same without revocation checks
 *   GET /rpc/*   the auth Worker's AuthService over a service binding (no network hop)
 *   /any/*       any of the three credentials a program may hold: an access token (JWKS),
 *                an API key (`X-API-Key` or `Bearer elk_…`), or a request signed with
 *                one; keys and signatures are checked by AuthService over RPC
 * and GET /public, which needs nothing.
 */

import {
  type AuthVariables,
  createVerifier,
  type EdgelockAuthService,
  requireAuth,
  requirePermission,
  requireScope,
  type Verifier,
} from "edgelock/verify";
import { Hono } from "hono";

interface ApiEnv {
  ISSUER: string;
  AUDIENCE: string;
  JWKS_URL: string;
  /** Service binding to the auth Worker's default entrypoint: the JWKS is fetched through it. */
  AUTH: Fetcher;
  /** Service binding to the auth Worker's AuthService entrypoint. */
  AUTH_RPC: Service & EdgelockAuthService;
  /** The auth server's REVOCATIONS namespace, for revocation checks at the edge. */
  REVOCATIONS?: KVNamespace;
}

// Verifiers live per isolate (module scope): they keep the JWKS between requests.
const verifiers = new Map<string, Verifier>();

/**
 * `withRevocation`: also check the revocation keys in KV (when REVOCATIONS is bound).
 * Without it, only signature and claims: the cheapest check, but a revoked
 * token lives until it expires.
 */
function verifierFor(env: ApiEnv, withRevocation: boolean): Verifier {
  const key = withRevocation ? "revocation" : "signature-only";
  let verifier = verifiers.get(key);
  if (!verifier) {
    verifier = createVerifier({
      issuer: env.ISSUER,
      audience: env.AUDIENCE,
      jwks: env.JWKS_URL,
      fetcher: env.AUTH,
      revocation: withRevocation ? env.REVOCATIONS : undefined,
    });
    verifiers.set(key, verifier);
  }
  return verifier;
}

type ApiApp = { Bindings: ApiEnv; Variables: AuthVariables };
const app = new Hono<ApiApp>();

app.get("/public", (c) => c.json({ hello: "world" }));

app.use("/jwks/*", (c, next) => requireAuth<ApiApp>({ verifier: verifierFor(c.env, true) })(c, next));
app.get("/jwks/me", (c) => c.json({ sub: c.var.auth.sub, via: "jwks" }));
app.get("/jwks/admin", requirePermission("users:read"), (c) => c.json({ ok: true }));
// OAuth access tokens carry what the user delegated to a client as `scope` (and
// `client_id`), not roles: check the scope. `sub` is the user, or for a
// client_credentials token the client itself.
app.get("/jwks/posts", requireScope("posts:read"), (c) =>
  c.json({
    posts: [{ id: "1", title: "Hello from the edge" }],
    sub: c.var.auth.sub,
    client_id: c.var.auth.client_id ?? null,
  }),
);

app.use("/signature-only/*", (c, next) => requireAuth<ApiApp>({ verifier: verifierFor(c.env, false) })(c, next));
app.get("/signature-only/me", (c) => c.json({ sub: c.var.auth.sub, via: "jwks, no revocation" }));

// One route, three credentials: `c.var.auth` has the same shape for each, so the
// permission check is the same (a key's permissions: its scopes its owner still holds).
app.use("/any/*", (c, next) =>
  requireAuth<ApiApp>({
    verifier: verifierFor(c.env, true),
    apiKeys: { service: c.env.AUTH_RPC, where: "example-api" },
  })(c, next),
);
app.get("/any/me", (c) => c.json({ sub: c.var.auth.sub, via: via(c.var.auth) }));
app.get("/any/posts", requirePermission("posts:read"), (c) =>
  c.json({ posts: [{ id: "1", title: "Hello from the edge" }], sub: c.var.auth.sub, via: via(c.var.auth) }),
);
// The body is still readable after a signed request's body was hashed for its check.
app.post("/any/echo", requirePermission("posts:read"), async (c) =>
  c.json({ received: await c.req.text(), sub: c.var.auth.sub, via: via(c.var.auth) }),
);

function via(claims: AuthVariables["auth"]): string {
  return claims.principal === "api_key" ? `api_key ${claims.key_id}` : "access_token";
}

app.get("/rpc/me", async (c) => {
  const token = /^Bearer (.+)$/i.exec(c.req.header("Authorization") ?? "")?.[1];
  if (!token) {
    c.header("WWW-Authenticate", 'Bearer realm="api"');
    return c.json({ error: "invalid_token", error_description: "a bearer access token is required" }, 401);
  }
  const result = await c.env.AUTH_RPC.verify(token);
  if (!result.ok) {
    c.header("WWW-Authenticate", 'Bearer realm="api", error="invalid_token"');
    return c.json({ error: result.error, error_description: result.error_description }, 401);
  }
  return c.json({ sub: result.claims.sub, via: "rpc" });
});

export default app;
