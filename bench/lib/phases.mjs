// The measurements of bench/run.mjs, one function per phase. Each returns plain
// figures (for the JSON file); bench/lib/report.mjs turns them into tables.
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fail, STATE_DIR } from "./common.mjs";
import { CLIENT_IP, call, closedLoop, page, requireString } from "./http.mjs";
import { d1Execute, d1Value, freePort, makeAdmin } from "./server.mjs";
import { median, round1, round3, summarize } from "./stats.mjs";

export const PASSWORD = "bench correct horse 42";
export const WARMUP = 5;
const HASH_ROUNDS = 7;
const HASH_COUNTS = [1, 21];
export const VERIFY_ALGS = ["ES256", "EdDSA"];
export const VERIFY_TARGET_PER_S = 5000;
/** Seeded users: rows per INSERT statement and per `wrangler d1 execute --file` call. */
const SEED_ROWS_PER_INSERT = 500;
const SEED_ROWS_PER_FILE = 50_000;

// ---------------------------------------------------------------- users

/** Signs up `bench-<random>@example.com` and verifies it through the real API (link from /_dev/outbox). */
export async function createUser(base) {
  const email = `bench-${randomBytes(6).toString("hex")}@example.com`;
  const signup = await call(base, "POST", "/auth/signup", { body: { email, password: PASSWORD }, expect: 202 });
  if (signup.json?.status !== "verification_required") {
    fail(`POST /auth/signup: expected {"status":"verification_required"}, got ${JSON.stringify(signup.json)}`);
  }
  const outbox = await call(base, "GET", `/_dev/outbox?to=${encodeURIComponent(email)}`);
  if (!Array.isArray(outbox.json)) fail(`GET /_dev/outbox: expected a JSON array, got ${JSON.stringify(outbox.json)}`);
  const tokens = outbox.json
    .map((mail) => /\/auth\/verify-email\?token=([^\s"&<]+)/.exec(mail?.text ?? "")?.[1])
    .filter((token) => token !== undefined);
  if (tokens.length !== 1) {
    fail(
      `GET /_dev/outbox: expected one verification link for ${email}, found ${tokens.length} in ${outbox.json.length} mail(s)`,
    );
  }
  const verified = await call(base, "POST", "/auth/verify-email", {
    body: { token: decodeURIComponent(tokens[0]), password: PASSWORD },
  });
  if (verified.json?.user?.email !== email) {
    fail(`POST /auth/verify-email: expected the user ${email}, got ${JSON.stringify(verified.json)}`);
  }
  return email;
}

/** POST /auth/login; returns the token response. */
export async function login(base, email) {
  const { ms, json } = await call(base, "POST", "/auth/login", { body: { email, password: PASSWORD } });
  requireString(json?.access_token, "POST /auth/login: access_token");
  requireString(json?.refresh_token, "POST /auth/login: refresh_token");
  return { ms, session: json };
}

async function refresh(base, refreshToken) {
  const { ms, json } = await call(base, "POST", "/auth/refresh", { body: { refresh_token: refreshToken } });
  requireString(json?.access_token, "POST /auth/refresh: access_token");
  const next = requireString(json?.refresh_token, "POST /auth/refresh: refresh_token");
  if (next === refreshToken) fail("POST /auth/refresh: answered the same refresh_token instead of rotating it");
  return { ms, session: json };
}

async function me(base, accessToken, email) {
  const { ms, json } = await call(base, "GET", "/auth/me", { token: accessToken });
  if (json?.user?.email !== email) fail(`GET /auth/me: expected the user ${email}, got ${JSON.stringify(json)}`);
  return ms;
}

// ---------------------------------------------------------------- phase: endpoints (sequential latency)

/** Sequential latency of /health (unless `health: false`), login, refresh and me for one user. */
export async function benchEndpoints(base, email, n, { health = true } = {}) {
  return (await benchEndpointsAt({ main: base }, email, n, { health })).main;
}

/**
 * The same, at several addresses of one server at once (`bases`: label -> base URL),
 * interleaved request by request so that drift and warm-up affect every address
 * alike. Each address logs in and refreshes along a chain of its own.
 * Returns label -> figures.
 */
export async function benchEndpointsAt(bases, email, n, { health = true } = {}) {
  const labels = Object.keys(bases);
  const results = Object.fromEntries(labels.map((label) => [label, {}]));
  const interleaved = async (name, once) => {
    for (const label of labels) for (let i = 0; i < WARMUP; i++) await once(label);
    const samples = Object.fromEntries(labels.map((label) => [label, []]));
    const wall = Object.fromEntries(labels.map((label) => [label, 0]));
    for (let i = 0; i < n; i++) {
      for (const label of labels) {
        const start = performance.now();
        samples[label].push(await once(label));
        wall[label] += performance.now() - start;
      }
    }
    for (const label of labels) results[label][name] = summarize(samples[label], wall[label]);
  };

  if (health) {
    await interleaved("health", async (label) => {
      const { ms, json } = await call(bases[label], "GET", "/health");
      if (json?.status !== "ok") fail(`GET /health: expected {"status":"ok"}, got ${JSON.stringify(json)}`);
      return ms;
    });
  }
  const sessions = {};
  await interleaved("login", async (label) => {
    const result = await login(bases[label], email);
    sessions[label] = result.session;
    return result.ms;
  });
  const refreshTokens = Object.fromEntries(labels.map((label) => [label, sessions[label].refresh_token]));
  await interleaved("refresh", async (label) => {
    const result = await refresh(bases[label], refreshTokens[label]);
    refreshTokens[label] = result.session.refresh_token;
    return result.ms;
  });
  await interleaved("me", (label) => me(bases[label], sessions[label].access_token, email));
  return results;
}

// ---------------------------------------------------------------- in-Worker costs, timed from outside

/**
 * Times a dev route that does `count` units of work with a low and a high count,
 * interleaved (so slow drift affects both alike), after one warm-up of each.
 * Returns the per-count samples and medians.
 */
async function timeCounts(counts, rounds, once) {
  const timings = Object.fromEntries(counts.map((count) => [count, []]));
  for (const count of counts) await once(count); // warm-up (and, for verify-cost, key generation)
  for (let round = 0; round < rounds; round++) {
    for (const count of counts) timings[count].push(await once(count));
  }
  const [low, high] = counts;
  return { timings, medianLow: median(timings[low]), medianHigh: median(timings[high]), low, high };
}

const STORAGE_COST_COUNT = 100;
const STORAGE_COST_ROUNDS = 5;

/**
 * What one storage operation of each kind costs inside the Worker (POST
 * /_dev/storage-cost: `count` in a row, timed by the Worker's clock, which moves
 * on I/O). Medians over a few rounds. The figures that explain the endpoints'.
 */
export async function benchStorageCost(base) {
  const rounds = [];
  for (let i = 0; i < STORAGE_COST_ROUNDS; i++) {
    const { json } = await call(base, "POST", "/_dev/storage-cost", { body: { count: STORAGE_COST_COUNT } });
    if (json?.count !== STORAGE_COST_COUNT || typeof json?.ms !== "object") {
      fail(`POST /_dev/storage-cost: expected {count, ms}, got ${JSON.stringify(json)}`);
    }
    rounds.push(json.ms);
  }
  const ms = {};
  for (const op of Object.keys(rounds[0])) ms[op] = round3(median(rounds.map((r) => r[op])));
  return { count: STORAGE_COST_COUNT, rounds: STORAGE_COST_ROUNDS, ms };
}

export async function benchPasswordHash(base) {
  let iterations;
  const once = async (count) => {
    const { ms, json } = await call(base, "POST", "/_dev/password-hash-cost", { body: { count } });
    if (json?.count !== count || !Number.isInteger(json?.iterations) || json.iterations < 1) {
      fail(`POST /_dev/password-hash-cost: expected {count: ${count}, iterations}, got ${JSON.stringify(json)}`);
    }
    if (iterations !== undefined && json.iterations !== iterations) fail("PBKDF2 iterations changed during the run");
    iterations = json.iterations;
    return ms;
  };
  const { timings, medianLow, medianHigh, low, high } = await timeCounts(HASH_COUNTS, HASH_ROUNDS, once);
  return {
    iterations,
    rounds: HASH_ROUNDS,
    counts: HASH_COUNTS,
    [`median_ms_count_${low}`]: round3(medianLow),
    [`median_ms_count_${high}`]: round3(medianHigh),
    ms_per_hash: round3((medianHigh - medianLow) / (high - low)),
    samples_ms: Object.fromEntries(HASH_COUNTS.map((count) => [count, timings[count].map(round3)])),
  };
}

/**
 * Phase "verify": in-isolate verify throughput with cached keys. POST /_dev/verify-cost
 * verifies one token `count` times serially; (N − 1) / (t(N) − t(1)) is tokens per
 * second on the one core the isolate runs on.
 */
export async function benchVerifyCost(base, { count, rounds }) {
  const results = {};
  for (const alg of VERIFY_ALGS) {
    let kid;
    const once = async (n) => {
      const { ms, json } = await call(base, "POST", "/_dev/verify-cost", { body: { alg, count: n } });
      if (json?.alg !== alg || json?.count !== n || typeof json?.kid !== "string") {
        fail(`POST /_dev/verify-cost: expected {alg: ${alg}, count: ${n}, kid}, got ${JSON.stringify(json)}`);
      }
      // A new kid means a new isolate (a new key, an uncached import): the figures would mix two setups.
      if (kid !== undefined && json.kid !== kid) fail(`POST /_dev/verify-cost: the ${alg} key changed during the run`);
      kid = json.kid;
      return ms;
    };
    const { timings, medianLow, medianHigh } = await timeCounts([1, count], rounds, once);
    const extraMs = medianHigh - medianLow;
    if (!(extraMs > 0)) {
      fail(
        `verify-cost ${alg}: ${count} verifications took no longer than 1 (${round3(extraMs)} ms); raise --verify-count`,
      );
    }
    const perSecond = (count - 1) / (extraMs / 1000);
    results[alg] = {
      median_ms_count_1: round3(medianLow),
      [`median_ms_count_${count}`]: round3(medianHigh),
      us_per_verify: round3((extraMs * 1000) / (count - 1)),
      tokens_per_s_per_core: Math.round(perSecond),
      meets_target: perSecond >= VERIFY_TARGET_PER_S,
      samples_ms: { 1: timings[1].map(round3), [count]: timings[count].map(round3) },
    };
  }
  return { count, rounds, target_tokens_per_s_per_core: VERIFY_TARGET_PER_S, algs: results };
}

// ---------------------------------------------------------------- phase: concurrency

/**
 * Phase "concurrency": login, refresh and me with `levels` requests in flight, each
 * level bounded by `durationMs` and `maxRequests`. Worker i uses users[i] (one account
 * each: the per-account login budget allows only a few attempts in flight at once).
 */
export async function benchConcurrency(base, users, { levels, durationMs, maxRequests }) {
  const workers = Math.max(...levels);
  if (users.length < workers) fail(`benchConcurrency: ${workers} users needed, got ${users.length}`);
  const sessions = [];
  for (let i = 0; i < workers; i++) sessions.push((await login(base, users[i])).session);

  const endpoints = {
    login: async (i) => {
      const result = await login(base, users[i]);
      return result.ms;
    },
    refresh: async (i) => {
      const result = await refresh(base, sessions[i].refresh_token);
      sessions[i] = result.session;
      return result.ms;
    },
    me: (i) => me(base, sessions[i].access_token, users[i]),
  };

  const results = {};
  for (const [name, once] of Object.entries(endpoints)) {
    results[name] = {};
    for (const concurrency of levels) {
      // Warm-up: one request per worker, untimed.
      await closedLoop({ concurrency, durationMs: 60_000, maxRequests: concurrency, once });
      const { samples, wallMs } = await closedLoop({ concurrency, durationMs, maxRequests, once });
      results[name][concurrency] = { concurrency, ...summarize(samples, wallMs, { keepSamples: false }) };
      results[name][concurrency].wall_s = round3(wallMs / 1000);
    }
  }
  return { levels, duration_s: durationMs / 1000, max_requests: maxRequests, results };
}

// ---------------------------------------------------------------- phase: oauth

/** Requests in flight in the oauth phase's throughput loops. */
export const OAUTH_LEVELS = [8, 16];
/** What the public client asks for: an ID token (RS256), email claims, and a refresh token. */
const OAUTH_SCOPE = "openid email offline_access";
/** What the confidential client is registered for and gets with client_credentials. */
const OAUTH_CLIENT_SCOPE = "posts:read";
export const OAUTH_SERIES = ["authorization_code", "refresh_token", "client_credentials", "introspect", "userinfo"];
export const OAUTH_LOOPS = ["client_credentials", "refresh_token"];

/**
 * The most POST /oauth/token requests phase "oauth" can send with these options:
 * three sequential series, two untimed refreshes (fresh access tokens), one untimed
 * code exchange per worker, and two closed loops per level (each with one warm-up
 * request per worker). run.mjs sets RATE_LIMIT_OAUTH_TOKEN_PER_IP from it, so the
 * phase never reaches that limit.
 */
export function oauthTokenRequestsAtMost({ n, maxRequests }) {
  const loops = OAUTH_LOOPS.length * OAUTH_LEVELS.reduce((sum, level) => sum + level + maxRequests, 0);
  return 3 * (WARMUP + n) + 2 + Math.max(...OAUTH_LEVELS) + loops;
}

/** RFC 7636 S256: a fresh 256-bit verifier and its challenge. */
function pkcePair() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/**
 * A browser for the hosted pages, one session: it logs in once on the hosted
 * login page, allows each client once on the consent page, and from then on
 * every GET /oauth/authorize answers a redirect with a code straight away.
 */
class OAuthBrowser {
  #cookie;
  #loggedIn = false;

  constructor(base, { email, origin, issuer }) {
    this.base = base;
    this.email = email;
    this.origin = origin;
    this.issuer = issuer;
  }

  #keepCookie(cookies) {
    const session = cookies.map((c) => /^(__Host-edgelock_session=[^;]+)/.exec(c)?.[1]).find(Boolean);
    if (session) this.#cookie = session;
  }

  /** A fresh code for `client` (with a PKCE pair, state and nonce of its own): { code, verifier }. */
  async code(client) {
    const { verifier, challenge } = pkcePair();
    const state = randomBytes(12).toString("base64url");
    const query = new URLSearchParams({
      response_type: "code",
      client_id: client.id,
      redirect_uri: client.redirectUri,
      scope: OAUTH_SCOPE,
      state,
      nonce: randomBytes(12).toString("base64url"),
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    let res = await page(this.base, "GET", `/oauth/authorize?${query}`, { cookie: this.#cookie, expect: [200, 302] });
    // At most: login page, back to the interaction, consent page, redirect.
    for (let step = 0; step < 4 && res.status === 200; step++) {
      const form = /\/oauth\/interaction\/([A-Za-z0-9_-]+)\/(login|consent)"/.exec(res.text);
      if (!form) fail(`GET /oauth/authorize: a page without a login or consent form: ${res.text.slice(0, 300)}`);
      const [, interaction, kind] = form;
      if (kind === "login") {
        if (this.#loggedIn) fail("GET /oauth/authorize: asked to log in again although the browser has a session");
        const login = await page(this.base, "POST", `/oauth/interaction/${interaction}/login`, {
          form: { email: this.email, password: PASSWORD },
          origin: this.origin,
          expect: [303],
        });
        this.#keepCookie(login.cookies);
        if (!this.#cookie) fail("POST /oauth/interaction/…/login: no __Host-edgelock_session cookie in the answer");
        this.#loggedIn = true;
        res = await page(this.base, "GET", new URL(login.location, this.base).pathname, {
          cookie: this.#cookie,
          expect: [200, 302],
        });
      } else {
        const csrf = /name="csrf_token" value="([^"]+)"/.exec(res.text)?.[1];
        if (!csrf) fail("the consent page has no csrf_token");
        res = await page(this.base, "POST", `/oauth/interaction/${interaction}/consent`, {
          form: { csrf_token: csrf, decision: "allow" },
          cookie: this.#cookie,
          origin: this.origin,
          expect: [303],
        });
      }
    }
    const location = requireString(res.location, "GET /oauth/authorize: the redirect's Location");
    const callback = new URL(location);
    if (`${callback.origin}${callback.pathname}` !== client.redirectUri) {
      fail(`GET /oauth/authorize: redirected to ${callback.origin}${callback.pathname}, not to ${client.redirectUri}`);
    }
    const params = callback.searchParams;
    if (params.has("error")) fail(`GET /oauth/authorize: ${params.get("error")}: ${params.get("error_description")}`);
    if (params.get("state") !== state || params.get("iss") !== this.issuer) {
      fail(`GET /oauth/authorize: the redirect does not carry our state and iss ${this.issuer}: ${location}`);
    }
    return { code: requireString(params.get("code"), "the redirect's code"), verifier };
  }
}

function requireTokenResponse(json, what, { refresh, idToken }) {
  requireString(json?.access_token, `${what}: access_token`);
  if (json.token_type !== "Bearer") fail(`${what}: token_type ${json.token_type}, not Bearer`);
  if (refresh) requireString(json.refresh_token, `${what}: refresh_token`);
  else if (json.refresh_token !== undefined) fail(`${what}: a refresh_token where none belongs`);
  if (idToken) requireString(json.id_token, `${what}: id_token`);
  return json;
}

async function exchangeCode(base, client, { code, verifier }) {
  const form = {
    grant_type: "authorization_code",
    code,
    redirect_uri: client.redirectUri,
    client_id: client.id,
    code_verifier: verifier,
  };
  const { ms, json } = await call(base, "POST", "/oauth/token", { form });
  return { ms, tokens: requireTokenResponse(json, "authorization_code", { refresh: true, idToken: true }) };
}

async function refreshGrant(base, client, refreshToken) {
  const form = { grant_type: "refresh_token", refresh_token: refreshToken, client_id: client.id };
  const { ms, json } = await call(base, "POST", "/oauth/token", { form });
  const tokens = requireTokenResponse(json, "refresh_token", { refresh: true, idToken: true });
  if (tokens.refresh_token === refreshToken)
    fail("refresh_token: answered the same refresh_token instead of rotating it");
  return { ms, tokens };
}

async function clientCredentialsGrant(base, machine) {
  const { ms, json } = await call(base, "POST", "/oauth/token", {
    form: { grant_type: "client_credentials" },
    basic: machine,
  });
  const tokens = requireTokenResponse(json, "client_credentials", { refresh: false, idToken: false });
  if (tokens.scope !== OAUTH_CLIENT_SCOPE) fail(`client_credentials: scope ${tokens.scope}, not ${OAUTH_CLIENT_SCOPE}`);
  return ms;
}

/**
 * The clients phase "oauth" needs, `workers` of each kind (the client authentication
 * budget is per client and IP and counts requests in flight, so each worker of a
 * loop has a client of its own): public clients from open registration, and
 * confidential client_credentials clients from the admin API, by an admin made
 * with scripts/admin-create.mjs. Each confidential client also serves the public
 * clients' audience (the issuer), so it may introspect their access tokens.
 */
async function oauthClients(base, { workers, issuer, audience }) {
  const redirectUri = `http://127.0.0.1:${await freePort()}/callback`; // never listened on: the bench reads Location
  const publicClients = [];
  for (let i = 0; i < workers; i++) {
    const { json } = await call(base, "POST", "/oauth/register", {
      body: {
        client_name: `bench public client ${i}`,
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
        scope: OAUTH_SCOPE,
      },
      expect: 201,
    });
    publicClients.push({ id: requireString(json?.client_id, "POST /oauth/register: client_id"), redirectUri });
  }

  const adminEmail = await createUser(base);
  // The server writes audit rows after its answers (waitUntil): let them land before
  // another process writes to the same SQLite file.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await makeAdmin(adminEmail);
  const admin = (await login(base, adminEmail)).session;
  const machines = [];
  for (let i = 0; i < workers; i++) {
    const { json } = await call(base, "POST", "/admin/clients", {
      token: admin.access_token,
      body: {
        client_name: `bench machine client ${i}`,
        token_endpoint_auth_method: "client_secret_basic",
        grant_types: ["client_credentials"],
        scope: OAUTH_CLIENT_SCOPE,
        audiences: [audience],
        served_audiences: [issuer],
      },
      expect: 201,
    });
    machines.push({
      id: requireString(json?.client_id, "POST /admin/clients: client_id"),
      secret: requireString(json?.client_secret, "POST /admin/clients: client_secret"),
    });
  }
  return { publicClients, machines, adminEmail };
}

/**
 * Phase "oauth": the OAuth endpoints. Sequential (WARMUP + n each): the code
 * exchange (a fresh code per iteration from GET /oauth/authorize with the browser
 * session, untimed; only POST /oauth/token is timed), refresh_token along one
 * rotating chain, client_credentials (client_secret_basic), introspection of a
 * user's access token by a confidential client, and userinfo. Then closed loops
 * at OAUTH_LEVELS in flight for client_credentials and refresh_token (each worker
 * its own clients and refresh family), bounded like phase "concurrency".
 */
export async function benchOAuth(base, email, { n, durationMs, maxRequests, origin, issuer, audience, log }) {
  const workers = Math.max(...OAUTH_LEVELS);
  const setupStart = performance.now();
  const { publicClients, machines, adminEmail } = await oauthClients(base, { workers, issuer, audience });
  const browser = new OAuthBrowser(base, { email, origin, issuer });
  // One family per worker (and its consent), exchanged untimed.
  const families = [];
  for (const client of publicClients)
    families.push((await exchangeCode(base, client, await browser.code(client))).tokens);
  const setupMs = performance.now() - setupStart;
  log(
    `  ${workers} public clients (open registration), ${workers} confidential clients (admin API, admin ${adminEmail}), ` +
      `one hosted login, ${workers} consents, in ${round1(setupMs / 1000)} s; sequential …`,
  );

  const [client] = publicClients;
  const [machine] = machines;
  const sequential = {};
  const series = async (name, once) => {
    for (let i = 0; i < WARMUP; i++) await once();
    const samples = [];
    for (let i = 0; i < n; i++) samples.push(await once());
    // req/s over the timed requests only (the code exchange's GET /oauth/authorize is left out).
    const timedMs = samples.reduce((a, b) => a + b, 0);
    sequential[name] = summarize(samples, timedMs);
  };
  let refreshToken;
  await series("authorization_code", async () => {
    const grant = await browser.code(client); // untimed
    const result = await exchangeCode(base, client, grant);
    refreshToken = result.tokens.refresh_token;
    return result.ms;
  });
  await series("refresh_token", async () => {
    const result = await refreshGrant(base, client, refreshToken);
    refreshToken = result.tokens.refresh_token;
    return result.ms;
  });
  await series("client_credentials", () => clientCredentialsGrant(base, machine));
  // A user's access token, fresh from the chain (untimed), for each of the next two
  // series: it lives ACCESS_TOKEN_TTL_SECONDS (10 minutes), long enough for any --n.
  const freshAccessToken = async () => {
    const result = await refreshGrant(base, client, refreshToken);
    refreshToken = result.tokens.refresh_token;
    return result.tokens.access_token;
  };
  let accessToken = await freshAccessToken();
  const userinfo = await call(base, "GET", "/oauth/userinfo", { token: accessToken });
  const userId = requireString(userinfo.json?.sub, "GET /oauth/userinfo: sub");
  await series("introspect", async () => {
    const { ms, json } = await call(base, "POST", "/oauth/introspect", {
      form: { token: accessToken },
      basic: machine,
    });
    if (json?.active !== true || json.sub !== userId || json.client_id !== client.id) {
      fail(
        `POST /oauth/introspect: expected an active token of ${userId} for ${client.id}, got ${JSON.stringify(json)}`,
      );
    }
    return ms;
  });
  accessToken = await freshAccessToken();
  await series("userinfo", async () => {
    const { ms, json } = await call(base, "GET", "/oauth/userinfo", { token: accessToken });
    if (json?.sub !== userId || json.email !== email) {
      fail(`GET /oauth/userinfo: expected {sub: ${userId}, email: ${email}}, got ${JSON.stringify(json)}`);
    }
    return ms;
  });

  log(`  closed loops: ${OAUTH_LOOPS.join(", ")} at ${OAUTH_LEVELS.join(", ")} in flight …`);
  const loops = {
    client_credentials: (i) => clientCredentialsGrant(base, machines[i]),
    refresh_token: async (i) => {
      const result = await refreshGrant(base, publicClients[i], families[i].refresh_token);
      families[i] = result.tokens;
      return result.ms;
    },
  };
  const throughput = {};
  for (const name of OAUTH_LOOPS) {
    const once = loops[name];
    throughput[name] = {};
    for (const concurrency of OAUTH_LEVELS) {
      // Warm-up: one request per worker, untimed.
      await closedLoop({ concurrency, durationMs: 60_000, maxRequests: concurrency, once });
      const { samples, wallMs } = await closedLoop({ concurrency, durationMs, maxRequests, once });
      throughput[name][concurrency] = { concurrency, ...summarize(samples, wallMs, { keepSamples: false }) };
      throughput[name][concurrency].wall_s = round3(wallMs / 1000);
    }
  }
  return {
    n,
    warmup: WARMUP,
    scope: OAUTH_SCOPE,
    client_scope: OAUTH_CLIENT_SCOPE,
    clients: { public: publicClients.length, confidential: machines.length },
    requests_per_s:
      "sequential: n / the sum of the timed latencies (the untimed /oauth/authorize left out); loops: answers / wall time of the level",
    setup_s: round3(setupMs / 1000),
    sequential,
    levels: OAUTH_LEVELS,
    duration_s: durationMs / 1000,
    max_requests: maxRequests,
    throughput,
  };
}

// ---------------------------------------------------------------- phase: users (D1 size)

/** Rows seed-<from>…seed-<to − 1>@bench.invalid as multi-row INSERTs, one file per SEED_ROWS_PER_FILE rows. */
function writeSeedFiles(from, to, passwordHash, now) {
  const files = [];
  for (let fileStart = from; fileStart < to; fileStart += SEED_ROWS_PER_FILE) {
    const fileEnd = Math.min(to, fileStart + SEED_ROWS_PER_FILE);
    const statements = [];
    for (let start = fileStart; start < fileEnd; start += SEED_ROWS_PER_INSERT) {
      const rows = [];
      for (let i = start; i < Math.min(fileEnd, start + SEED_ROWS_PER_INSERT); i++) {
        // id: 128-bit random base64url, like real ids (src/lib/crypto/random.ts), so the primary-key index looks alike.
        const id = randomBytes(16).toString("base64url");
        rows.push(`('${id}','seed-${i}@bench.invalid','${passwordHash}',${now},0,NULL,${now},${now})`);
      }
      statements.push(
        "INSERT INTO users (id, email, password_hash, email_verified_at, tokens_not_before, disabled_at, created_at, updated_at) VALUES\n" +
          `${rows.join(",\n")};`,
      );
    }
    const file = join(STATE_DIR, `seed-${fileStart}-${fileEnd}.sql`);
    writeFileSync(file, `${statements.join("\n")}\n`);
    files.push(file);
  }
  return files;
}

/**
 * Phase "users": seeds verified users straight into the local D1 (`wrangler d1 execute
 * --local --file`, while the server runs) up to each of `sizes`, and measures login,
 * refresh and me (sequential, `n` each) at the starting size and at each size.
 */
export async function benchUserGrowth(base, email, { sizes, n, log }) {
  if (!/^bench-[0-9a-f]+@example\.com$/.test(email)) fail(`unexpected bench email ${email}`);
  const passwordHash = String(await d1Value(`SELECT password_hash FROM users WHERE email = '${email}'`));
  // Inlined into SQL below: it must be the self-describing hash format and nothing else.
  if (!/^pbkdf2-sha256\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/.test(passwordHash)) {
    fail(`unexpected password_hash format for the bench user: ${passwordHash.slice(0, 40)}…`);
  }
  const countSeeded = async () =>
    Number(await d1Value("SELECT count(*) AS n FROM users WHERE email LIKE 'seed-%@bench.invalid'"));
  const countAll = async () => Number(await d1Value("SELECT count(*) AS n FROM users"));

  const steps = [];
  let seeded = await countSeeded();
  if (seeded !== 0) fail(`the bench database already holds ${seeded} seeded users`);
  log(`  at the start: ${await countAll()} users; measuring login, refresh, me …`);
  steps.push({
    seeded: 0,
    users_rows: await countAll(),
    seed: null,
    ...(await benchEndpoints(base, email, n, { health: false })),
  });

  for (const size of sizes) {
    const previous = seeded;
    // The server writes audit rows after its answers (waitUntil): let them land before
    // another process writes to the same SQLite file.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const start = performance.now();
    const files = writeSeedFiles(seeded, size, passwordHash, Date.now());
    const generatedMs = performance.now() - start;
    for (const file of files) await d1Execute(file, { file: true, timeoutMs: 300_000 });
    const seedMs = performance.now() - start;
    seeded = await countSeeded();
    if (seeded !== size) fail(`seeding: expected ${size} seeded users, found ${seeded}`);
    const rows = await countAll();
    log(`  seeded to ${size} (${round1(seedMs / 1000)} s, ${files.length} file(s)); ${rows} users; measuring …`);
    steps.push({
      seeded: size,
      users_rows: rows,
      seed: {
        rows_added: size - previous,
        files: files.length,
        rows_per_insert: SEED_ROWS_PER_INSERT,
        generate_ms: Math.round(generatedMs),
        total_ms: Math.round(seedMs),
      },
      ...(await benchEndpoints(base, email, n, { health: false })),
    });
  }
  return { sizes, n, warmup: WARMUP, steps };
}

// ---------------------------------------------------------------- phase: edge (example API Worker)

export const EDGE_ROUTES = [
  { path: "/public", label: "GET /public (no auth)", auth: false, via: null },
  { path: "/signature-only/me", label: "GET /signature-only/me (requireAuth: JWKS only)", via: "jwks, no revocation" },
  { path: "/jwks/me", label: "GET /jwks/me (requireAuth: JWKS + KV revocation)", via: "jwks", revocation: true },
  { path: "/rpc/me", label: "GET /rpc/me (AuthService over the service binding)", via: "rpc", revocation: true },
  {
    path: "/any/me",
    label: "GET /any/me (requireAuth + apiKeys: an access token)",
    via: "access_token",
    revocation: true,
  },
  // The query only tells the two /any/me rows apart; the example ignores it.
  {
    path: "/any/me?credential=api_key",
    label: "GET /any/me (requireAuth + apiKeys: an API key over RPC)",
    credential: "key",
    revocation: true,
  },
];

/**
 * Credentials for phase "edge", issued by the auth server: an access token and an
 * API key that are valid, and one of each that is revoked (logged out, deleted).
 * The user is made an admin first, since a key's scopes must be permissions its owner holds.
 */
export async function issueEdgeTokens(base, email) {
  await makeAdmin(email);
  const valid = (await login(base, email)).session;
  const revoked = (await login(base, email)).session;
  await call(base, "POST", "/auth/logout", { token: revoked.access_token, expect: 204 });
  const mint = async () =>
    (
      await call(base, "POST", "/auth/api-keys", {
        token: valid.access_token,
        body: { name: "bench edge", scopes: ["users:read"] },
        expect: 201,
      })
    ).json;
  const key = await mint();
  const revokedKey = await mint();
  await call(base, "DELETE", `/auth/api-keys/${revokedKey.id}`, { token: valid.access_token, expect: 204 });
  return {
    userId: valid.user.id,
    valid: valid.access_token,
    revoked: revoked.access_token,
    key: { valid: key.key, revoked: revokedKey.key, via: `api_key ${key.id}` },
  };
}

/** The credential a route is called with: its valid or revoked access token, or API key. */
function credentialFor(route, tokens, kind) {
  if (route.auth === false) return undefined;
  if (route.credential === "key") return tokens.key[kind];
  return tokens[kind];
}

/**
 * Phase "edge": latency of the example API Worker's routes, sequential and interleaved
 * (one request per route per round), after checking each route answers as it should —
 * including that a logged-out token is refused where revocation is checked, which
 * proves the example reads the auth server's TOKENS namespace.
 */
export async function benchEdge(base, tokens, { n, warmup = 10 }) {
  const get = (path, token, expect = 200) => call(base, "GET", path, { token, expect });
  const checks = {};
  const pub = await get("/public");
  if (pub.json?.hello !== "world") fail(`GET /public: expected {"hello":"world"}, got ${JSON.stringify(pub.json)}`);
  for (const route of EDGE_ROUTES.filter((r) => r.auth !== false)) {
    const ok = await get(route.path, credentialFor(route, tokens, "valid"));
    const via = route.credential === "key" ? tokens.key.via : route.via;
    if (ok.json?.sub !== tokens.userId || ok.json?.via !== via) {
      fail(`GET ${route.path}: expected {sub: ${tokens.userId}, via: ${via}}, got ${JSON.stringify(ok.json)}`);
    }
    await get(route.path, undefined, 401);
    const revokedCredential = credentialFor(route, tokens, "revoked");
    const revoked = await get(route.path, revokedCredential, route.revocation ? 401 : 200).catch((error) => {
      if (!route.revocation) throw error;
      fail(
        `${error.message}\n(a logged-out token was not refused: the example API Worker does not see the auth server's revocation keys)`,
      );
    });
    checks[route.path] = { valid: 200, missing: 401, logged_out: route.revocation ? 401 : 200 };
    if (route.revocation && revoked.json?.error !== "invalid_token") {
      fail(`GET ${route.path} with a logged-out token: expected invalid_token, got ${JSON.stringify(revoked.json)}`);
    }
  }

  const once = async (route) => (await get(route.path, credentialFor(route, tokens, "valid"))).ms;
  for (let i = 0; i < warmup; i++) for (const route of EDGE_ROUTES) await once(route);
  const samples = Object.fromEntries(EDGE_ROUTES.map((route) => [route.path, []]));
  const busyMs = Object.fromEntries(EDGE_ROUTES.map((route) => [route.path, 0]));
  for (let i = 0; i < n; i++) {
    for (const route of EDGE_ROUTES) {
      const ms = await once(route);
      samples[route.path].push(ms);
      busyMs[route.path] += ms;
    }
  }
  const routes = {};
  for (const route of EDGE_ROUTES) routes[route.path] = summarize(samples[route.path], busyMs[route.path]);
  const base0 = routes["/public"];
  for (const route of EDGE_ROUTES) {
    const r = routes[route.path];
    r.added_median_ms = round3(r.median_ms - base0.median_ms);
    r.added_p95_ms = round3(r.p95_ms - base0.p95_ms);
  }
  return { n, warmup, client_ip: CLIENT_IP, checks, routes };
}
