// `npm run bench`: edgelock's performance on local `wrangler dev`, in phases.
//
//   npm run bench                 # every phase, default sizes (about 2–3 minutes on 2 cores)
//   npm run bench -- --quick      # every phase, shorter (about 1 minute)
//   npm run bench -- --only verify,edge
//   npm run bench -- --help       # every flag
//
// Phases: endpoints (sequential login/refresh/me/health latency and the in-Worker password
// hash cost), verify (in-isolate token verification throughput, ES256 and EdDSA),
// concurrency (login/refresh/me with 1, 4, 16 requests in flight), oauth (the OAuth token,
// introspection and userinfo endpoints, sequential and with 8 and 16 in flight), users
// (login/refresh/me as D1 grows to 1k/10k/100k users) and edge (the example API Worker's
// requireAuth and RPC routes against /public). Everything runs against servers the bench
// starts on 127.0.0.1, with their own storage in bench/.state (deleted at the end). Prints
// one table per phase and writes every figure to bench/results/<timestamp>.json. See
// bench/README.md.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { BenchError, fail, HOST, ROOT, run } from "./lib/common.mjs";
import { CLIENT_IP } from "./lib/http.mjs";
import {
  benchConcurrency,
  benchEdge,
  benchEndpointsAt,
  benchOAuth,
  benchPasswordHash,
  benchStorageCost,
  benchUserGrowth,
  benchVerifyCost,
  createUser,
  issueEdgeTokens,
  OAUTH_LEVELS,
  oauthTokenRequestsAtMost,
  WARMUP,
} from "./lib/phases.mjs";
import {
  reportConcurrency,
  reportEdge,
  reportEndpoints,
  reportOAuth,
  reportUserGrowth,
  reportVerify,
} from "./lib/report.mjs";
import { childEnv, DevServer, ensureDevVars, freePort, migrate, prepareState, removeState } from "./lib/server.mjs";

const BOOT_TIMEOUT_MS = 90_000;
const PHASES = ["endpoints", "verify", "concurrency", "oauth", "users", "edge"];
/**
 * Per-IP limits stay on (their check is part of what we measure) and high enough
 * that a default run (about 2,000 login and refresh requests) never reaches them,
 * yet low enough to behave like a real limit: near a million, the GCRA bucket is
 * always full, every check schedules an immediate idle-cleanup alarm, and the
 * figures would measure that instead. Very long `--duration`s may need more.
 */
const RATE_LIMIT_PER_IP = 10_000;
/**
 * The per-IP limit of /oauth/token (and of /oauth/introspect, counted apart): the
 * most token requests phase "oauth" can send with these options (its loops alone
 * may send 4 × --max-requests), rounded up to a thousand, and at least the other limits'.
 */
const oauthTokenLimit = (options) =>
  Math.max(RATE_LIMIT_PER_IP, Math.ceil(oauthTokenRequestsAtMost(options) / 1000) * 1000);
const EXAMPLE_CONFIG = "examples/api-worker/wrangler.toml";
/**
 * The example's JWKS URL. Its verifier fetches through the AUTH service binding,
 * so the host is never resolved; `.invalid` makes sure that, if it ever were,
 * the request fails instead of reaching some other server.
 */
const EDGE_JWKS_URL = "http://edgelock.invalid/.well-known/jwks.json";

const DEFAULTS = {
  n: 50,
  edgeN: 200,
  duration: 5,
  maxRequests: 5000,
  concurrency: [1, 4, 16],
  sizes: [1_000, 10_000, 100_000],
  verifyCount: 10_000,
  verifyRounds: 5,
};
const QUICK = { n: 15, edgeN: 60, duration: 1.5, maxRequests: 1000, verifyCount: 2_000, verifyRounds: 3 };

const USAGE = `usage: node bench/run.mjs [flags]     (npm run bench -- [flags])

  --quick               shorter everything: --n ${QUICK.n} --edge-n ${QUICK.edgeN} --duration ${QUICK.duration}
                        --max-requests ${QUICK.maxRequests} --verify-count ${QUICK.verifyCount} --verify-rounds ${QUICK.verifyRounds} (explicit flags win)
  --only <phases>       comma-separated subset of ${PHASES.join(",")} (default: all)
  --n <k>               sequential requests per endpoint in "endpoints", "oauth" and at each "users" size (default ${DEFAULTS.n})
  --verify-count <N>    verifications per /_dev/verify-cost call, 2–20000 (default ${DEFAULTS.verifyCount})
  --verify-rounds <r>   rounds of count 1 and count N per algorithm (default ${DEFAULTS.verifyRounds})
  --concurrency <list>  requests in flight per level, 1–64 each (default ${DEFAULTS.concurrency.join(",")})
  --duration <s>        seconds per concurrency level (also in "oauth"), 0.5–60 (default ${DEFAULTS.duration})
  --max-requests <k>    requests per concurrency level (also in "oauth") at most (default ${DEFAULTS.maxRequests})
  --sizes <list>        seeded users in D1, ascending, up to 200000 (default ${DEFAULTS.sizes.join(",")})
  --edge-n <k>          requests per route in "edge" (default ${DEFAULTS.edgeN})
  --keep-state          keep bench/.state (the servers' D1, KV, DO storage) after the run`;

function parseArgs(argv) {
  const options = {};
  let quick = false;
  let only = PHASES;
  let keepState = false;
  const integer = (name, value, min, max) => {
    const x = Number(value);
    if (!Number.isInteger(x) || x < min || x > max)
      fail(`--${name} must be an integer from ${min} to ${max}, got ${value}`);
    return x;
  };
  const list = (name, value, min, max) => {
    const items = String(value)
      .split(",")
      .map((item) => integer(name, item.trim().replace(/_/g, ""), min, max));
    if (items.length === 0) fail(`--${name} needs at least one value`);
    return items;
  };
  const parsers = {
    n: (v) => integer("n", v, 1, 10_000),
    "edge-n": (v) => integer("edge-n", v, 1, 10_000),
    "verify-count": (v) => integer("verify-count", v, 2, 20_000),
    "verify-rounds": (v) => integer("verify-rounds", v, 1, 50),
    "max-requests": (v) => integer("max-requests", v, 1, 100_000),
    duration: (v) => {
      const x = Number(v);
      if (!Number.isFinite(x) || x < 0.5 || x > 60) fail(`--duration must be 0.5 to 60 seconds, got ${v}`);
      return x;
    },
    concurrency: (v) => [...new Set(list("concurrency", v, 1, 64))].sort((a, b) => a - b),
    sizes: (v) => {
      const sizes = list("sizes", v, 1, 200_000);
      if (sizes.some((size, i) => i > 0 && size <= sizes[i - 1])) fail("--sizes must be strictly ascending");
      return sizes;
    },
  };
  const keys = {
    "edge-n": "edgeN",
    "verify-count": "verifyCount",
    "verify-rounds": "verifyRounds",
    "max-requests": "maxRequests",
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      process.exit(0);
    }
    if (arg === "--quick") {
      quick = true;
      continue;
    }
    if (arg === "--keep-state") {
      keepState = true;
      continue;
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const name = match?.[1];
    if (name === "only" || (name !== undefined && Object.hasOwn(parsers, name))) {
      const value = match[2] ?? argv[++i];
      if (value === undefined) fail(`--${name} needs a value`);
      if (name === "only") {
        only = value.split(",").map((phase) => phase.trim());
        const unknown = only.filter((phase) => !PHASES.includes(phase));
        if (unknown.length > 0 || only.length === 0)
          fail(`--only: unknown phase(s) ${unknown.join(", ")}; known: ${PHASES.join(", ")}`);
      } else {
        options[keys[name] ?? name] = parsers[name](value);
      }
      continue;
    }
    fail(`unknown argument: ${arg}\n${USAGE}`);
  }
  return { ...DEFAULTS, ...(quick ? QUICK : {}), ...options, quick, phases: new Set(only), keepState };
}

// ---------------------------------------------------------------- metadata

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
    const dirty = execFileSync(
      "git",
      ["status", "--porcelain", "--", "src", "migrations", "wrangler.toml", "examples", "bench"],
      { cwd: ROOT, encoding: "utf8" },
    ).trim();
    return { commit, src_dirty: dirty !== "" };
  } catch {
    return { commit: "unknown", src_dirty: null };
  }
}

/**
 * The issue's two latency targets, from the endpoints phase: refresh median ≤ 5 ms,
 * and login ≤ one password hash + 5 ms. Reported, never asserted.
 */
function endpointTargets({ endpoints, endpoints_direct: direct, password_hash: hash }) {
  const at = (figures) =>
    figures && {
      refresh_median_ms: figures.refresh.median_ms,
      login_minus_hash_ms: Math.round((figures.login.median_ms - hash.ms_per_hash) * 100) / 100,
    };
  return { refresh_median_max_ms: 5, login_minus_hash_max_ms: 5, proxy: at(endpoints), direct: at(direct) ?? null };
}

// ---------------------------------------------------------------- main

const servers = new Set();

function cleanUp(options) {
  if (!options.keepState) removeState();
}

async function startServer(label, args, readyPath) {
  const port = await freePort();
  const server = new DevServer(port, args);
  server.label = label;
  servers.add(server);
  const start = performance.now();
  console.log(`\n[bench] starting ${label} on ${HOST}:${port} …`);
  await server.waitUntilReady(readyPath, BOOT_TIMEOUT_MS);
  console.log(`[bench] ready in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  return server;
}

async function stopServer(server) {
  await server.stop();
  servers.delete(server);
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const started = new Date();
  const t0 = performance.now();
  const clientMajor = Number(process.versions.node.split(".")[0]);
  if (clientMajor !== 22) console.warn(`[bench] warning: running on node ${process.version}; the project uses node 22`);
  const serverNode = execFileSync("node", ["--version"], { env: childEnv(), encoding: "utf8" }).trim();

  const onExit = () => {
    for (const server of servers) server.killNow();
  };
  const onSignal = (signal) => {
    run.interrupted = true;
    console.error(`[bench] ${signal}: stopping the dev server(s)`);
    Promise.all([...servers].map((server) => server.stop()))
      .then(() => cleanUp(options))
      .finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.on("exit", onExit);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const summary = {
    benchmark: "edgelock-local-http",
    date: started.toISOString(),
    n: options.n,
    warmup: WARMUP,
    node: { client: process.version, server: serverNode },
    wrangler: readVersion("wrangler"),
    platform: { os: process.platform, arch: process.arch, cpu: cpus()[0]?.model ?? "unknown", cpus: cpus().length },
    git: gitCommit(),
    sources: "the working tree (src, migrations, examples, wrangler.toml) as copied at the start of the run",
    options: { ...options, phases: [...options.phases] },
    client_ip: CLIENT_IP,
    method:
      "keep-alive fetch from one node process on the same machine; latency = performance.now() around fetch with the body " +
      "fully read; p95/p99 = nearest rank; sequential req/s = n / wall time of the measured loop; concurrency req/s = " +
      "answers / wall time of the level; in-Worker costs = (median t(high count) - median t(low count)) / (count difference)",
    phase_seconds: {},
  };
  const tables = [];
  const phase = async (name, work) => {
    const start = performance.now();
    const result = await work();
    summary.phase_seconds[name] = Math.round(performance.now() - start) / 1000;
    return result;
  };
  let current;

  try {
    const devVars = await ensureDevVars();
    for (const name of ["ISSUER", "ACCESS_TOKEN_AUDIENCE", "PUBLIC_URL"]) {
      if (!devVars[name])
        fail(`.dev.vars has no ${name}: phases edge and oauth need it (delete .dev.vars to regenerate)`);
    }
    // The servers run from a copy of the sources taken now: wrangler dev reloads on
    // every change to its sources, and another edit to src/ must not land mid-run.
    prepareState();
    console.log("[bench] copied the sources to bench/.state/tree; applying D1 migrations to bench/.state/persist …");
    await phase("setup_migrations", () => migrate());

    // -------- the auth Worker alone: endpoints, verify, concurrency, oauth, users; tokens for edge
    const limits = [
      ...["LOGIN", "REFRESH", "SIGNUP", "VERIFY_EMAIL"].map((route) => [route, RATE_LIMIT_PER_IP]),
      ["OAUTH_TOKEN", oauthTokenLimit(options)],
    ].flatMap(([route, limit]) => ["--var", `RATE_LIMIT_${route}_PER_IP:${limit}`]);
    current = await startServer("the auth Worker (wrangler dev)", limits, "/health");
    const base = current.base;
    summary.server = `wrangler dev (workerd) at ${base}, run in bench/.state/tree, --persist-to bench/.state/persist`;

    const email = await createUser(base);
    console.log(`[bench] created and verified ${email}`);

    if (options.phases.has("endpoints")) {
      console.log(
        `[bench] endpoints: /health, login, refresh, me, ${WARMUP} warm-up + ${options.n} each, through wrangler's ` +
          "dev proxy and straight at the Worker, interleaved; hash cost …",
      );
      await phase("endpoints", async () => {
        // Also straight at the Worker's own workerd, past wrangler's dev proxy (Linux only).
        const direct = await current.directBase("/health", (text) => text.includes('"status":"ok"'));
        summary.direct_server = direct
          ? `the same Worker at ${direct}: the user Worker's own workerd, behind wrangler's dev proxy`
          : "not found (needs Linux /proc)";
        const measured = await benchEndpointsAt(direct ? { proxy: base, direct } : { proxy: base }, email, options.n);
        summary.endpoints = measured.proxy;
        summary.endpoints_direct = measured.direct ?? null;
        summary.password_hash = await benchPasswordHash(base);
        summary.storage_cost = await benchStorageCost(base);
        summary.targets = endpointTargets(summary);
      });
      tables.push(reportEndpoints(summary));
      console.log(tables.at(-1));
    }

    if (options.phases.has("verify")) {
      console.log(
        `\n[bench] verify: ES256 and EdDSA, count 1 and ${options.verifyCount}, ${options.verifyRounds} rounds …`,
      );
      summary.verify_cost = await phase("verify", () =>
        benchVerifyCost(base, { count: options.verifyCount, rounds: options.verifyRounds }),
      );
      tables.push(reportVerify(summary.verify_cost));
      console.log(tables.at(-1));
    }

    if (options.phases.has("concurrency")) {
      const workers = Math.max(...options.concurrency);
      console.log(`\n[bench] concurrency: creating ${workers - 1} more users (one account per worker) …`);
      summary.concurrency = await phase("concurrency", async () => {
        const users = [email];
        while (users.length < workers) users.push(await createUser(base));
        console.log(
          `[bench] concurrency: login, refresh, me at ${options.concurrency.join(", ")} in flight, ` +
            `${options.duration} s or ${options.maxRequests} requests each …`,
        );
        return benchConcurrency(base, users, {
          levels: options.concurrency,
          durationMs: options.duration * 1000,
          maxRequests: options.maxRequests,
        });
      });
      tables.push(reportConcurrency(summary.concurrency));
      console.log(tables.at(-1));
    }

    if (options.phases.has("oauth")) {
      console.log(
        `\n[bench] oauth: clients, one hosted login and consent; then code exchange, refresh, client_credentials, ` +
          `introspect, userinfo, ${WARMUP} warm-up + ${options.n} each; then client_credentials and refresh at ` +
          `${OAUTH_LEVELS.join(", ")} in flight, ${options.duration} s or ${options.maxRequests} requests each …`,
      );
      summary.oauth = await phase("oauth", () =>
        benchOAuth(base, email, {
          n: options.n,
          durationMs: options.duration * 1000,
          maxRequests: options.maxRequests,
          origin: new URL(devVars.PUBLIC_URL).origin,
          issuer: devVars.ISSUER,
          audience: devVars.ACCESS_TOKEN_AUDIENCE,
          log: console.log,
        }),
      );
      summary.oauth.rate_limit_oauth_token_per_ip = oauthTokenLimit(options);
      tables.push(reportOAuth(summary.oauth));
      console.log(tables.at(-1));
    }

    if (options.phases.has("users")) {
      console.log(`\n[bench] users: seeding D1 to ${options.sizes.join(", ")} users …`);
      summary.user_growth = await phase("users", () =>
        benchUserGrowth(base, email, { sizes: options.sizes, n: options.n, log: console.log }),
      );
      tables.push(reportUserGrowth(summary.user_growth));
      console.log(tables.at(-1));
    }

    let edgeTokens;
    if (options.phases.has("edge")) edgeTokens = await issueEdgeTokens(base, email);
    await stopServer(current);

    // -------- the example API Worker (primary, served on the port) with the auth Worker (auxiliary)
    if (options.phases.has("edge")) {
      const args = [
        "-c",
        EXAMPLE_CONFIG,
        "-c",
        "wrangler.toml",
        "--var",
        `ISSUER:${devVars.ISSUER}`,
        "--var",
        `AUDIENCE:${devVars.ACCESS_TOKEN_AUDIENCE}`,
        "--var",
        `JWKS_URL:${EDGE_JWKS_URL}`,
      ];
      current = await startServer(
        "the example API Worker + the auth Worker (wrangler dev, two configs)",
        args,
        "/public",
      );
      summary.edge = await phase("edge", async () => {
        console.log(
          `[bench] edge: /public, /signature-only/me, /jwks/me, /rpc/me, /any/me (token, API key), ${options.edgeN} each, interleaved …`,
        );
        return benchEdge(current.base, edgeTokens, { n: options.edgeN });
      });
      summary.edge.server = `wrangler dev -c ${EXAMPLE_CONFIG} -c wrangler.toml at ${current.base}, run in bench/.state/tree, --persist-to bench/.state/persist`;
      tables.push(reportEdge(summary.edge));
      console.log(tables.at(-1));
      await stopServer(current);
    }

    summary.duration_s = Math.round(performance.now() - t0) / 1000;
    const dir = join(ROOT, "bench", "results");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${started.toISOString().replaceAll(":", "-")}.json`);
    writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);

    console.log(
      `\n[bench] edgelock bench — ${summary.date}, node ${summary.node.client} (server ${serverNode}), ` +
        `wrangler ${summary.wrangler}, ${summary.platform.cpus} × ${summary.platform.cpu}`,
    );
    console.log(`[bench] wrote ${file.slice(ROOT.length + 1)}; total ${summary.duration_s.toFixed(1)} s`);
  } catch (error) {
    if (error instanceof BenchError && !run.interrupted && current) {
      const tail = current.logTail();
      if (tail) console.error(`\n[bench] last lines of the dev server's output:\n${tail}\n`);
    }
    throw error;
  } finally {
    await Promise.all([...servers].map((server) => stopServer(server)));
    if (!run.interrupted) cleanUp(options);
    process.off("exit", onExit);
  }
}

main().catch((error) => {
  if (run.interrupted) return;
  console.error(`[bench] FAILED: ${error instanceof BenchError ? error.message : (error?.stack ?? error)}`);
  process.exitCode = 1;
});
