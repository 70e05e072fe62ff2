// `npm run bench`: latency of edgelock's main endpoints against a local `wrangler dev`.
//
//   npm run bench              # 50 measured requests per endpoint
//   npm run bench -- --n 100   # 100
//
// Starts its own server (scripts/dev.mjs on a free port, 127.0.0.1 only), signs up and
// verifies a fresh user through the real API, then times login, refresh, me and /health
// one request at a time, and the in-Worker cost of one PBKDF2 password hash. Prints a
// table and writes the figures to bench/results/<timestamp>.json. See bench/README.md.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const HOST = "127.0.0.1";
const WARMUP = 5;
const HEALTH_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 30_000;
const HASH_ROUNDS = 7;
const HASH_COUNTS = [1, 21];
const PASSWORD = "bench correct horse 42";

class BenchError extends Error {}

/** Set on SIGINT/SIGTERM: the request in flight then fails, and that is not worth reporting. */
let interrupted = false;

function fail(message) {
  throw new BenchError(message);
}

function parseArgs(argv) {
  let n = 50;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    let value;
    if (arg === "--n") value = argv[++i];
    else if (arg.startsWith("--n=")) value = arg.slice("--n=".length);
    else if (arg === "--help" || arg === "-h") {
      console.log("usage: node bench/run.mjs [--n <iterations per endpoint, default 50>]");
      process.exit(0);
    } else fail(`unknown argument: ${arg} (usage: node bench/run.mjs [--n <iterations>])`);
    n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) fail(`--n must be an integer from 1 to 10000, got ${value}`);
  }
  return { n };
}

// ---------------------------------------------------------------- server

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The local dev server in its own process group, so the whole tree (dev.mjs, wrangler, workerd) can be ended. */
class DevServer {
  #child;
  #log = [];
  #exited = null;

  constructor(port, env) {
    this.port = port;
    this.base = `http://${HOST}:${port}`;
    // Per-IP limits stay on (their check is part of what we measure) but high
    // enough (10,000 per window) that `--n` in the thousands never hits them.
    const limits = ["LOGIN", "REFRESH", "SIGNUP", "VERIFY_EMAIL"].flatMap((route) => [
      "--var",
      `RATE_LIMIT_${route}_PER_IP:10000`,
    ]);
    this.#child = spawn("node", ["scripts/dev.mjs", "--port", String(port), "--ip", HOST, ...limits], {
      cwd: ROOT,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (chunk) => {
      this.#log.push(...chunk.toString().split("\n"));
      if (this.#log.length > 400) this.#log.splice(0, this.#log.length - 400);
    };
    this.#child.stdout.on("data", keep);
    this.#child.stderr.on("data", keep);
    this.#child.on("error", (error) => {
      this.#exited ??= `could not start: ${error.message}`;
    });
    this.#child.on("exit", (code, signal) => {
      this.#exited ??= signal ? `exited on ${signal}` : `exited with code ${code}`;
    });
  }

  get exited() {
    return this.#exited;
  }

  logTail(lines = 40) {
    return this.#log
      .filter((line) => line.trim() !== "")
      .slice(-lines)
      .join("\n");
  }

  async waitUntilHealthy(timeoutMs) {
    const deadline = performance.now() + timeoutMs;
    let last = "no answer yet";
    while (performance.now() < deadline) {
      if (this.#exited) fail(`the dev server ${this.#exited} before /health answered`);
      try {
        const res = await fetch(`${this.base}/health`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
        last = `HTTP ${res.status}`;
      } catch (error) {
        last = error.cause?.code ?? error.message;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    fail(`GET /health did not answer 200 within ${timeoutMs / 1000} s (last: ${last})`);
  }

  /** SIGTERM to the whole process group, then SIGKILL if it is still there after 5 s. */
  async stop() {
    const pid = this.#child.pid;
    if (pid === undefined) return;
    const signalGroup = (signal) => {
      try {
        process.kill(-pid, signal);
        return true;
      } catch {
        return false; // ESRCH: the group is already gone
      }
    };
    if (!signalGroup("SIGTERM")) return;
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      if (!signalGroup(0)) return;
    }
    signalGroup("SIGKILL");
  }

  /** Last resort on process exit: synchronous, so it also works from an 'exit' handler. */
  killNow() {
    if (this.#child.pid === undefined) return;
    try {
      process.kill(-this.#child.pid, "SIGKILL");
    } catch {}
  }
}

// ---------------------------------------------------------------- HTTP

/**
 * One request; times fetch until the body is fully read. Fails unless the status is `expect`.
 * Returns { ms, json }.
 */
// One client address per run (a documentation range; wrangler dev passes the header
// through), so per-IP counters from earlier runs never carry over into this one.
const CLIENT_IP = `198.51.100.${Math.floor(Math.random() * 254) + 1}`;

async function call(base, method, path, { body, token, expect = 200 } = {}) {
  const headers = { "cf-connecting-ip": CLIENT_IP };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const init = {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  };
  let res;
  let text;
  const start = performance.now();
  try {
    res = await fetch(`${base}${path}`, init);
    text = await res.text();
  } catch (error) {
    fail(`${method} ${path}: request failed: ${error.cause?.code ?? error.message}`);
  }
  const ms = performance.now() - start;
  if (res.status !== expect) {
    fail(`${method} ${path}: expected HTTP ${expect}, got ${res.status}: ${text.slice(0, 500)}`);
  }
  let json;
  if (text !== "") {
    try {
      json = JSON.parse(text);
    } catch {
      fail(`${method} ${path}: HTTP ${res.status} but the body is not JSON: ${text.slice(0, 200)}`);
    }
  }
  return { ms, json };
}

function requireString(value, what) {
  if (typeof value !== "string" || value === "") fail(`${what} is missing from the response`);
  return value;
}

// ---------------------------------------------------------------- statistics

function quantile(sorted, q) {
  // Nearest-rank: the smallest value with at least q of the samples at or below it.
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function summarize(samples, wallMs) {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (x) => Math.round(x * 1000) / 1000;
  return {
    n: samples.length,
    median_ms: round(median(samples)),
    p95_ms: round(quantile(sorted, 0.95)),
    min_ms: round(sorted[0]),
    max_ms: round(sorted[sorted.length - 1]),
    mean_ms: round(samples.reduce((a, b) => a + b, 0) / samples.length),
    requests_per_s: Math.round((samples.length / (wallMs / 1000)) * 10) / 10,
    samples_ms: samples.map(round),
  };
}

/** Runs `once` (which returns a latency in ms) `warmup` times untimed, then `n` times. */
async function measure(n, once) {
  for (let i = 0; i < WARMUP; i++) await once();
  const samples = [];
  const start = performance.now();
  for (let i = 0; i < n; i++) samples.push(await once());
  return summarize(samples, performance.now() - start);
}

// ---------------------------------------------------------------- the benchmark

async function createUser(base) {
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
  const verified = await call(base, "POST", "/auth/verify-email", { body: { token: decodeURIComponent(tokens[0]) } });
  if (verified.json?.user?.email !== email) {
    fail(`POST /auth/verify-email: expected the user ${email}, got ${JSON.stringify(verified.json)}`);
  }
  return email;
}

async function benchEndpoints(base, email, n) {
  const credentials = { email, password: PASSWORD };
  const results = {};

  results.health = await measure(n, async () => {
    const { ms, json } = await call(base, "GET", "/health");
    if (json?.status !== "ok") fail(`GET /health: expected {"status":"ok"}, got ${JSON.stringify(json)}`);
    return ms;
  });

  let session;
  results.login = await measure(n, async () => {
    const { ms, json } = await call(base, "POST", "/auth/login", { body: credentials });
    requireString(json?.access_token, "POST /auth/login: access_token");
    requireString(json?.refresh_token, "POST /auth/login: refresh_token");
    session = json;
    return ms;
  });

  let refreshToken = session.refresh_token;
  results.refresh = await measure(n, async () => {
    const { ms, json } = await call(base, "POST", "/auth/refresh", { body: { refresh_token: refreshToken } });
    requireString(json?.access_token, "POST /auth/refresh: access_token");
    const next = requireString(json?.refresh_token, "POST /auth/refresh: refresh_token");
    if (next === refreshToken) fail("POST /auth/refresh: answered the same refresh_token instead of rotating it");
    refreshToken = next;
    return ms;
  });

  const accessToken = session.access_token;
  results.me = await measure(n, async () => {
    const { ms, json } = await call(base, "GET", "/auth/me", { token: accessToken });
    if (json?.user?.email !== email) fail(`GET /auth/me: expected the user ${email}, got ${JSON.stringify(json)}`);
    return ms;
  });

  return results;
}

async function benchPasswordHash(base) {
  const timings = Object.fromEntries(HASH_COUNTS.map((count) => [count, []]));
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
  await once(1); // warm-up
  // Interleaved, so slow drift (thermal, other load) affects both counts alike.
  for (let round = 0; round < HASH_ROUNDS; round++) {
    for (const count of HASH_COUNTS) timings[count].push(await once(count));
  }
  const [low, high] = HASH_COUNTS;
  const medianLow = median(timings[low]);
  const medianHigh = median(timings[high]);
  const round3 = (x) => Math.round(x * 1000) / 1000;
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

// ---------------------------------------------------------------- output

function table(rows) {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => String(row[col]).length)));
  const line = (row) =>
    row
      .map((cell, col) => (col === 0 ? String(cell).padEnd(widths[col]) : String(cell).padStart(widths[col])))
      .join("  ");
  return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n");
}

function report(summary) {
  const { endpoints, password_hash: hash } = summary;
  const labels = {
    health: "GET /health",
    login: "POST /auth/login",
    refresh: "POST /auth/refresh",
    me: "GET /auth/me",
  };
  const rows = [["endpoint", "n", "median ms", "p95 ms", "min ms", "max ms", "req/s"]];
  for (const [key, label] of Object.entries(labels)) {
    const r = endpoints[key];
    rows.push([
      label,
      r.n,
      r.median_ms.toFixed(2),
      r.p95_ms.toFixed(2),
      r.min_ms.toFixed(2),
      r.max_ms.toFixed(2),
      r.requests_per_s.toFixed(1),
    ]);
  }
  const [low, high] = hash.counts;
  console.log("");
  console.log(
    `edgelock bench — ${summary.date}, node ${summary.node.client} (server node ${summary.node.server}), wrangler ${summary.wrangler}`,
  );
  console.log(`server: ${summary.server}; sequential requests, ${summary.warmup} warm-up + ${summary.n} measured each`);
  console.log("");
  console.log(table(rows));
  console.log("");
  console.log(
    `password hash (PBKDF2-SHA256, ${hash.iterations} iterations), in the Worker: ${hash.ms_per_hash.toFixed(2)} ms per hash` +
      ` (median of ${hash.rounds}: ${low} hash ${hash[`median_ms_count_${low}`].toFixed(1)} ms,` +
      ` ${high} hashes ${hash[`median_ms_count_${high}`].toFixed(1)} ms)`,
  );
}

function readVersion(packageName) {
  try {
    return JSON.parse(readFileSync(join(ROOT, "node_modules", packageName, "package.json"), "utf8")).version;
  } catch {
    return "unknown";
  }
}

function gitCommit() {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "migrations", "wrangler.toml"], {
      cwd: ROOT,
      encoding: "utf8",
    }).trim();
    return { commit, src_dirty: dirty !== "" };
  } catch {
    return { commit: "unknown", src_dirty: null };
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const { n } = parseArgs(process.argv.slice(2));
  const clientMajor = Number(process.versions.node.split(".")[0]);
  if (clientMajor !== 22) console.warn(`[bench] warning: running on node ${process.version}; the project uses node 22`);

  // node_modules/.bin first, as `npm run` does: the server then runs on the project's node 22.
  const env = {
    ...process.env,
    PATH: `${join(ROOT, "node_modules", ".bin")}${delimiter}${process.env.PATH ?? ""}`,
    // Keep wrangler itself off the network: no telemetry, no fetch of the `Request.cf` sample.
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
  };
  const serverNode = execFileSync("node", ["--version"], { env, encoding: "utf8" }).trim();

  const port = await freePort();
  const started = new Date();
  console.log(`[bench] starting wrangler dev on ${HOST}:${port} (node ${serverNode}) …`);
  const server = new DevServer(port, env);
  const onExit = () => server.killNow();
  const onSignal = (signal) => {
    interrupted = true;
    console.error(`[bench] ${signal}: stopping the dev server`);
    server.stop().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.on("exit", onExit);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  try {
    const bootStart = performance.now();
    await server.waitUntilHealthy(HEALTH_TIMEOUT_MS);
    console.log(`[bench] server ready in ${((performance.now() - bootStart) / 1000).toFixed(1)} s`);

    const base = server.base;
    const email = await createUser(base);
    console.log(`[bench] created and verified ${email}`);

    console.log(`[bench] measuring /health, login, refresh, me: ${WARMUP} warm-up + ${n} each …`);
    const endpoints = await benchEndpoints(base, email, n);
    console.log(
      `[bench] measuring the password hash cost (${HASH_ROUNDS} rounds of count ${HASH_COUNTS.join(" and ")}) …`,
    );
    const passwordHash = await benchPasswordHash(base);

    const summary = {
      benchmark: "edgelock-local-http",
      date: started.toISOString(),
      n,
      warmup: WARMUP,
      server: `wrangler dev (workerd) at http://${HOST}:${port}`,
      node: { client: process.version, server: serverNode },
      wrangler: readVersion("wrangler"),
      platform: { os: process.platform, arch: process.arch, cpu: cpus()[0]?.model ?? "unknown", cpus: cpus().length },
      git: gitCommit(),
      method:
        "sequential requests, one in flight, keep-alive fetch; latency = performance.now() around fetch with the body fully read; " +
        "requests_per_s = n / wall time of the measured loop; p95 = nearest rank",
      endpoints,
      password_hash: passwordHash,
    };
    report(summary);

    const dir = join(ROOT, "bench", "results");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${started.toISOString().replaceAll(":", "-")}.json`);
    writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
    console.log(`\n[bench] wrote ${file.slice(ROOT.length + 1)}`);
  } catch (error) {
    if (error instanceof BenchError && !interrupted) {
      const tail = server.logTail();
      if (tail) console.error(`\n[bench] last lines of the dev server's output:\n${tail}\n`);
    }
    throw error;
  } finally {
    await server.stop();
    process.off("exit", onExit);
  }
}

main().catch((error) => {
  if (interrupted) return;
  console.error(`[bench] FAILED: ${error instanceof BenchError ? error.message : (error?.stack ?? error)}`);
  process.exitCode = 1;
});
