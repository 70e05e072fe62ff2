/**
 * "Sign in with edgelock": a minimal OpenID Connect relying party on Workers,
 * a public client (PKCE, no secret) driven by oauth4webapi:
 *   GET  /          the signed-in user's email and sub (from the ID token), or a sign-in button
 *   GET  /login     an authorization request (discovery from ISSUER, PKCE S256, state,
 *                   nonce, scope "openid email"); what the callback needs rides in a
 *                   short-lived HMAC-signed cookie, since isolates are not sticky
 *   GET  /callback  checks the response (state, iss), redeems the code, checks the
 *                   ID token (nonce), and keeps sub, email and the ID token in a signed
 *                   session cookie
 *   POST /logout    ends the session here and at the provider (RP-Initiated Logout,
 *                   with id_token_hint), which sends the browser back to /
 * Cookies are signed, not encrypted: the browser may read them, nobody can forge them.
 */
import { type Context, Hono } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import * as oauth from "oauth4webapi";

interface RpEnv {
  /** The provider's issuer identifier; discovery is fetched from it. */
  ISSUER: string;
  /** This client's id, from dynamic registration (README). */
  CLIENT_ID: string;
  /** The redirect URI registered for the client; `/` on its origin is the post-logout redirect. */
  REDIRECT_URI: string;
  /** The HMAC key of the cookies: a secret (.dev.vars locally, `wrangler secret put` deployed). */
  COOKIE_SECRET: string;
}

type RpApp = { Bindings: RpEnv };
type Ctx = Context<RpApp>;

const SCOPE = "openid email";
/** How long a sign-in may take, from /login to /callback. */
const LOGIN_TTL_SECONDS = 600;
/** How long this app's own session lasts (the provider's may be shorter or longer). */
const SESSION_TTL_SECONDS = 8 * 3600;

/** What the callback needs to check the provider's answer. */
interface PendingLogin {
  verifier: string;
  state: string;
  nonce: string;
  exp: number;
}

interface Session {
  sub: string;
  email: string | null;
  /** For id_token_hint at logout. */
  idToken: string;
  exp: number;
}

class ConfigError extends Error {}
/** A failure this app explains itself. */
class SignInError extends Error {}

function config(env: RpEnv) {
  if (!env.CLIENT_ID) throw new ConfigError("CLIENT_ID is not set: register the client and put its id in .dev.vars");
  if (!env.COOKIE_SECRET || env.COOKIE_SECRET.length < 32) {
    throw new ConfigError("COOKIE_SECRET is not set (at least 32 characters): put a random one in .dev.vars");
  }
  const issuer = new URL(env.ISSUER);
  return {
    issuer,
    client: { client_id: env.CLIENT_ID } satisfies oauth.Client,
    redirectUri: env.REDIRECT_URI,
    postLogoutRedirectUri: new URL("/", env.REDIRECT_URI).toString(),
    secret: env.COOKIE_SECRET,
    // oauth4webapi refuses plain http; `wrangler dev` serves the provider on http://localhost.
    options: issuer.protocol === "http:" ? { [oauth.allowInsecureRequests]: true } : {},
  };
}

// The provider's metadata, per isolate (module scope), fetched once per issuer.
const discovered = new Map<string, Promise<oauth.AuthorizationServer>>();

function authorizationServer(cfg: ReturnType<typeof config>): Promise<oauth.AuthorizationServer> {
  const key = cfg.issuer.href;
  let as = discovered.get(key);
  if (!as) {
    as = oauth
      .discoveryRequest(cfg.issuer, cfg.options)
      .then((response) => oauth.processDiscoveryResponse(cfg.issuer, response));
    // A failed discovery is not kept: the next request tries again.
    as.catch(() => discovered.delete(key));
    discovered.set(key, as);
  }
  return as;
}

// `__Host-` cookies (Secure, Path=/, no Domain) when served over https; plain names on http://localhost.
function cookieOptions(c: Ctx, maxAge: number) {
  const secure = new URL(c.req.url).protocol === "https:";
  return {
    httpOnly: true,
    sameSite: "Lax" as const,
    path: "/",
    maxAge,
    ...(secure ? { secure: true, prefix: "host" as const } : {}),
  };
}

function prefixOf(c: Ctx): "host" | undefined {
  return new URL(c.req.url).protocol === "https:" ? "host" : undefined;
}

async function readSigned<T extends { exp: number }>(c: Ctx, name: string, secret: string): Promise<T | null> {
  const value = await getSignedCookie(c, secret, name, prefixOf(c));
  if (!value) return null;
  try {
    const parsed = JSON.parse(value) as T & { use?: string };
    // The signature covers the value only: `use` keeps one cookie's value from passing for the other's.
    if (parsed.use !== name) return null;
    // Max-Age is the browser's business; the signed `exp` is ours.
    return typeof parsed.exp === "number" && parsed.exp > Math.floor(Date.now() / 1000) ? parsed : null;
  } catch {
    return null;
  }
}

async function writeSigned(c: Ctx, name: string, value: object, secret: string, maxAge: number): Promise<void> {
  await setSignedCookie(c, name, JSON.stringify({ ...value, use: name }), secret, cookieOptions(c, maxAge));
}

function clear(c: Ctx, name: string): void {
  const secure = new URL(c.req.url).protocol === "https:";
  deleteCookie(c, name, { path: "/", ...(secure ? { secure: true, prefix: "host" as const } : {}) });
}

const LOGIN_COOKIE = "rp_login";
const SESSION_COOKIE = "rp_session";

function page(c: Ctx, body: HtmlEscapedString | Promise<HtmlEscapedString>, status: 200 | 400 | 500 = 200) {
  c.header("Cache-Control", "no-store");
  c.header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  return c.html(
    html`<!doctype html>
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>Example app</title>
          <style>
            body { font: 16px/1.5 system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem; }
            button { font: inherit; padding: 0.5rem 1rem; cursor: pointer; }
            code { word-break: break-all; }
          </style>
        </head>
        <body>
          ${body}
        </body>
      </html>`,
    status,
  );
}

function failure(c: Ctx, error: unknown) {
  if (error instanceof ConfigError) return page(c, html`<h1>Not configured</h1><p>${error.message}</p>`, 500);
  let description = "the sign-in could not be completed";
  if (error instanceof oauth.AuthorizationResponseError || error instanceof oauth.ResponseBodyError) {
    description = `${error.error}: ${error.error_description ?? ""}`;
  } else if (error instanceof oauth.OperationProcessingError || error instanceof SignInError) {
    description = error.message;
  } else {
    console.error(error);
  }
  return page(
    c,
    html`<h1>Sign-in failed</h1>
      <p>${description}</p>
      <p><a href="/">Back</a></p>`,
    400,
  );
}

const app = new Hono<RpApp>();

app.onError((error, c) => failure(c, error));

app.get("/", async (c) => {
  const cfg = config(c.env);
  const session = await readSigned<Session>(c, SESSION_COOKIE, cfg.secret);
  if (!session) {
    return page(
      c,
      html`<h1>Example app</h1>
        <form method="get" action="/login"><button type="submit">Sign in with edgelock</button></form>`,
    );
  }
  return page(
    c,
    html`<h1>Signed in</h1>
      <p>Email: <strong>${session.email ?? "(not shared)"}</strong></p>
      <p>Subject: <code>${session.sub}</code></p>
      <form method="post" action="/logout"><button type="submit">Sign out</button></form>`,
  );
});

app.get("/login", async (c) => {
  const cfg = config(c.env);
  const as = await authorizationServer(cfg);
  if (!as.authorization_endpoint) throw new SignInError("the provider has no authorization endpoint");
  const login: PendingLogin = {
    verifier: oauth.generateRandomCodeVerifier(),
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
    exp: Math.floor(Date.now() / 1000) + LOGIN_TTL_SECONDS,
  };
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set("client_id", cfg.client.client_id);
  url.searchParams.set("redirect_uri", cfg.redirectUri);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("scope", SCOPE);
  url.searchParams.set("state", login.state);
  url.searchParams.set("nonce", login.nonce);
  url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(login.verifier));
  url.searchParams.set("code_challenge_method", "S256");
  await writeSigned(c, LOGIN_COOKIE, login, cfg.secret, LOGIN_TTL_SECONDS);
  return c.redirect(url.toString(), 302);
});

app.get("/callback", async (c) => {
  const cfg = config(c.env);
  const login = await readSigned<PendingLogin>(c, LOGIN_COOKIE, cfg.secret);
  // One answer per request: whatever happens next, this login is spent.
  clear(c, LOGIN_COOKIE);
  if (!login) {
    return page(
      c,
      html`<h1>Sign-in expired</h1>
        <p>This sign-in was not started here, or took too long.</p>
        <p><a href="/login">Start again</a></p>`,
      400,
    );
  }
  const as = await authorizationServer(cfg);
  // Checks state and, as the provider advertises it (RFC 9207), iss; an error answer throws.
  const params = oauth.validateAuthResponse(as, cfg.client, new URL(c.req.url), login.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    cfg.client,
    oauth.None(),
    params,
    cfg.redirectUri,
    login.verifier,
    cfg.options,
  );
  const tokens = await oauth.processAuthorizationCodeResponse(as, cfg.client, response, {
    expectedNonce: login.nonce,
    requireIdToken: true,
  });
  const claims = oauth.getValidatedIdTokenClaims(tokens);
  if (!claims || !tokens.id_token) throw new SignInError("no ID token in the token response");
  const session: Session = {
    sub: claims.sub,
    email: typeof claims.email === "string" ? claims.email : null,
    idToken: tokens.id_token,
    exp: Math.floor(Date.now() / 1000) + SESSION_TTL_SECONDS,
  };
  await writeSigned(c, SESSION_COOKIE, session, cfg.secret, SESSION_TTL_SECONDS);
  return c.redirect("/", 303);
});

app.post("/logout", async (c) => {
  const cfg = config(c.env);
  // A form post from another site must not sign the user out (SameSite=Lax keeps the cookie off it anyway).
  const origin = c.req.header("Origin");
  if (origin && origin !== new URL(c.req.url).origin) return c.text("cross-site request refused", 403);
  const session = await readSigned<Session>(c, SESSION_COOKIE, cfg.secret);
  clear(c, SESSION_COOKIE);
  const as = session ? await authorizationServer(cfg) : null;
  if (!session || !as?.end_session_endpoint) return c.redirect("/", 303);
  const url = new URL(as.end_session_endpoint);
  url.searchParams.set("id_token_hint", session.idToken);
  url.searchParams.set("post_logout_redirect_uri", cfg.postLogoutRedirectUri);
  return c.redirect(url.toString(), 303);
});

export default app;
