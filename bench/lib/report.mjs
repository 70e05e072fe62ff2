// The tables bench/run.mjs prints, one per phase.
import { EDGE_ROUTES, OAUTH_LOOPS, OAUTH_SERIES, VERIFY_ALGS } from "./phases.mjs";
import { ms, signedMs, table } from "./stats.mjs";

const ENDPOINT_LABELS = {
  health: "GET /health",
  login: "POST /auth/login",
  refresh: "POST /auth/refresh",
  me: "GET /auth/me",
};

const heading = (text) => `\n== ${text}\n`;

const STORAGE_LABELS = {
  rate_limiter_check: "per-IP rate-limit check (Durable Object call)",
  kv_get: "KV get",
  kv_put: "KV put",
  d1_select: "D1 query (user by email)",
  d1_batch_of_3: "D1 batch of 3 statements",
};

export function reportEndpoints({
  endpoints,
  endpoints_direct: direct,
  password_hash: hash,
  storage_cost: storage,
  targets,
  n,
  warmup,
}) {
  const rows = [["endpoint", "n", "median ms", "p95 ms", "min ms", "max ms", "req/s"]];
  const addRows = (figures, suffix) => {
    for (const [key, label] of Object.entries(ENDPOINT_LABELS)) {
      const r = figures[key];
      rows.push([
        `${label}${suffix}`,
        r.n,
        ms(r.median_ms),
        ms(r.p95_ms),
        ms(r.min_ms),
        ms(r.max_ms),
        r.requests_per_s.toFixed(1),
      ]);
    }
  };
  addRows(endpoints, "");
  if (direct) addRows(direct, " (direct)");
  const [low, high] = hash.counts;
  const check = (value, max) => `${ms(value)} ms ${value <= max ? "(met)" : "(not met)"}`;
  const targetLine = (label, key, max) =>
    `  ${label} ≤ ${max} ms: ${check(targets.proxy[key], max)} through wrangler dev` +
    (targets.direct ? `, ${check(targets.direct[key], max)} direct` : "");
  return [
    heading(`endpoints: sequential requests, ${warmup} warm-up + ${n} measured each`),
    table(rows),
    "",
    direct
      ? "\"(direct)\": the same server, requests sent straight to the Worker's workerd instead of through wrangler's dev proxy."
      : "(the Worker's own port was not found, so there are no direct figures: that needs Linux /proc)",
    `password hash (PBKDF2-SHA256, ${hash.iterations} iterations), in the Worker: ${hash.ms_per_hash.toFixed(2)} ms per hash` +
      ` (median of ${hash.rounds}: ${low} hash ${hash[`median_ms_count_${low}`].toFixed(1)} ms,` +
      ` ${high} hashes ${hash[`median_ms_count_${high}`].toFixed(1)} ms)`,
    `one operation, in the Worker (median of ${storage.rounds} rounds of ${storage.count} in a row): ` +
      Object.entries(STORAGE_LABELS)
        .map(([key, label]) => `${label} ${ms(storage.ms[key])} ms`)
        .join(", "),
    "targets (measured, never asserted):",
    targetLine("refresh median", "refresh_median_ms", targets.refresh_median_max_ms),
    targetLine("login median − one hash", "login_minus_hash_ms", targets.login_minus_hash_max_ms),
  ].join("\n");
}

export function reportVerify(verify) {
  const { count, rounds, target_tokens_per_s_per_core: target } = verify;
  const rows = [["alg", "median ms count=1", `median ms count=${count}`, "µs/verify", "tokens/s/core", `≥ ${target}?`]];
  for (const alg of VERIFY_ALGS) {
    const r = verify.algs[alg];
    rows.push([
      alg,
      ms(r.median_ms_count_1),
      ms(r[`median_ms_count_${count}`]),
      r.us_per_verify.toFixed(1),
      r.tokens_per_s_per_core,
      r.meets_target ? "yes" : "NO",
    ]);
  }
  return [
    heading(
      `verify: in-isolate verify throughput, cached key (POST /_dev/verify-cost, median of ${rounds} rounds; (N−1) / (t(N) − t(1)))`,
    ),
    table(rows),
  ].join("\n");
}

export function reportEdge(edge) {
  const rows = [["route (example API Worker)", "n", "median ms", "p95 ms", "added median", "added p95"]];
  for (const route of EDGE_ROUTES) {
    const r = edge.routes[route.path];
    const base = route.path === "/public";
    rows.push([
      route.label,
      r.n,
      ms(r.median_ms),
      ms(r.p95_ms),
      base ? "(base)" : signedMs(r.added_median_ms),
      base ? "(base)" : signedMs(r.added_p95_ms),
    ]);
  }
  return [
    heading(
      `edge: example API Worker + auth Worker in one wrangler dev; sequential, interleaved, ${edge.warmup} warm-up + ${edge.n} each; added = vs /public`,
    ),
    table(rows),
  ].join("\n");
}

export function reportConcurrency(concurrency) {
  const rows = [["endpoint", "in flight", "n", "median ms", "p95 ms", "p99 ms", "req/s"]];
  for (const [name, byLevel] of Object.entries(concurrency.results)) {
    for (const level of concurrency.levels) {
      const r = byLevel[level];
      rows.push([
        ENDPOINT_LABELS[name],
        level,
        r.n,
        ms(r.median_ms),
        ms(r.p95_ms),
        ms(r.p99_ms),
        r.requests_per_s.toFixed(1),
      ]);
    }
  }
  return [
    heading(
      `concurrency: closed loop, each level ${concurrency.duration_s} s or ${concurrency.max_requests} requests, one account per worker`,
    ),
    table(rows),
  ].join("\n");
}

export function reportUserGrowth(growth) {
  const rows = [
    ["users in D1", "seeding s", "login med", "login p95", "refresh med", "refresh p95", "me med", "me p95"],
  ];
  for (const step of growth.steps) {
    rows.push([
      step.users_rows.toLocaleString("en-US"),
      step.seed ? (step.seed.total_ms / 1000).toFixed(1) : "-",
      ms(step.login.median_ms),
      ms(step.login.p95_ms),
      ms(step.refresh.median_ms),
      ms(step.refresh.p95_ms),
      ms(step.me.median_ms),
      ms(step.me.p95_ms),
    ]);
  }
  return [
    heading(
      `users: latency (ms) as D1 grows; sequential, ${growth.warmup} warm-up + ${growth.n} each; seeding = wrangler d1 execute --file`,
    ),
    table(rows),
  ].join("\n");
}

const OAUTH_LABELS = {
  authorization_code: "POST /oauth/token authorization_code + PKCE",
  refresh_token: "POST /oauth/token refresh_token (rotating)",
  client_credentials: "POST /oauth/token client_credentials (Basic)",
  introspect: "POST /oauth/introspect (confidential client)",
  userinfo: "GET /oauth/userinfo",
};

export function reportOAuth(oauth) {
  const sequential = [["endpoint", "n", "median ms", "p95 ms", "p99 ms", "max ms", "req/s"]];
  for (const name of OAUTH_SERIES) {
    const r = oauth.sequential[name];
    sequential.push([
      OAUTH_LABELS[name],
      r.n,
      ms(r.median_ms),
      ms(r.p95_ms),
      ms(r.p99_ms),
      ms(r.max_ms),
      r.requests_per_s.toFixed(1),
    ]);
  }
  const loops = [["endpoint", "in flight", "n", "median ms", "p95 ms", "p99 ms", "req/s"]];
  for (const name of OAUTH_LOOPS) {
    for (const level of oauth.levels) {
      const r = oauth.throughput[name][level];
      loops.push([
        OAUTH_LABELS[name],
        level,
        r.n,
        ms(r.median_ms),
        ms(r.p95_ms),
        ms(r.p99_ms),
        r.requests_per_s.toFixed(1),
      ]);
    }
  }
  return [
    heading(
      `oauth: sequential, ${oauth.warmup} warm-up + ${oauth.n} each (scope "${oauth.scope}"; each code from ` +
        "GET /oauth/authorize with the browser session, untimed)",
    ),
    table(sequential),
    "",
    `closed loop, each level ${oauth.duration_s} s or ${oauth.max_requests} requests; ` +
      "each worker its own client (and refresh family)",
    table(loops),
  ].join("\n");
}
