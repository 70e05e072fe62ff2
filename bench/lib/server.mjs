// Local servers and storage for bench/run.mjs: `.dev.vars`, the bench's own directory
// (bench/.state: a copy of the sources and the servers' storage), `wrangler d1` against
// it, and `wrangler dev` in its own process group. Everything listens on and talks to
// 127.0.0.1 only.
import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { writeDevVarsIfMissing } from "../../scripts/dev-secrets.mjs";
import { fail, HOST, PERSIST_DIR, ROOT, STATE_DIR, TREE_DIR } from "./common.mjs";

const execFileAsync = promisify(execFile);
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
const DEV_VARS = join(ROOT, ".dev.vars");
/** What the Workers are built from (wrangler.toml's `main`, rules and migrations_dir are relative to it). */
const TREE_ENTRIES = ["wrangler.toml", "package.json", "tsconfig.json", "src", "migrations", "examples"];

/** The environment of every child: node_modules/.bin first (so wrangler runs on the project's node 22), no telemetry. */
export function childEnv() {
  return {
    ...process.env,
    PATH: `${join(ROOT, "node_modules", ".bin")}${delimiter}${process.env.PATH ?? ""}`,
    // Keep wrangler itself off the network: no telemetry, no fetch of the `Request.cf` sample.
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
  };
}

export function freePort() {
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

/**
 * The auth Worker's development settings. Like `npm run dev` (scripts/dev.mjs), writes
 * .dev.vars with fresh development secrets when it is missing, with the same content.
 * Returns its KEY=VALUE pairs.
 */
export async function ensureDevVars() {
  if (await writeDevVarsIfMissing(DEV_VARS)) {
    console.log("[bench] wrote .dev.vars with fresh development keys and pepper (as `npm run dev` does)");
  }
  const vars = {};
  for (const line of readFileSync(DEV_VARS, "utf8").split("\n")) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match) continue;
    let value = match[2];
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    vars[match[1]] = value;
  }
  return vars;
}

/**
 * A fresh bench/.state: a copy of the sources (with .dev.vars, and node_modules linked)
 * in bench/.state/tree, and an empty bench/.state/persist.
 */
export function prepareState() {
  rmSync(STATE_DIR, { recursive: true, force: true });
  mkdirSync(PERSIST_DIR, { recursive: true });
  mkdirSync(TREE_DIR, { recursive: true });
  for (const entry of TREE_ENTRIES) {
    if (!existsSync(join(ROOT, entry))) continue;
    // Not the build output of earlier `wrangler dev` runs in examples/.
    cpSync(join(ROOT, entry), join(TREE_DIR, entry), {
      recursive: true,
      filter: (source) => !source.split(/[\\/]/).includes(".wrangler"),
    });
  }
  cpSync(DEV_VARS, join(TREE_DIR, ".dev.vars"));
  symlinkSync(join(ROOT, "node_modules"), join(TREE_DIR, "node_modules"), "dir");
}

export function removeState() {
  rmSync(STATE_DIR, { recursive: true, force: true });
}

/** Runs wrangler to completion (d1 commands); returns stdout. Fails with the tail of its output. */
export async function wrangler(args, { timeoutMs = 120_000 } = {}) {
  try {
    const { stdout } = await execFileAsync(WRANGLER, args, {
      cwd: TREE_DIR,
      env: { ...childEnv(), CI: "true" },
      maxBuffer: 64 * 1024 * 1024,
      timeout: timeoutMs,
      killSignal: "SIGKILL",
    });
    return stdout;
  } catch (error) {
    const output = `${error.stdout ?? ""}\n${error.stderr ?? ""}`.trim().split("\n").slice(-15).join("\n");
    fail(
      `wrangler ${args.slice(0, 3).join(" ")} failed (${error.killed ? "timed out" : `exit ${error.code}`}):\n${output}`,
    );
  }
}

/** `wrangler d1 execute DB --local` against the bench's persist directory. */
export function d1Execute(sqlOrFile, { file = false, json = false, timeoutMs } = {}) {
  const args = ["d1", "execute", "DB", "--local", "--persist-to", PERSIST_DIR, "--yes"];
  args.push(file ? "--file" : "--command", sqlOrFile);
  if (json) args.push("--json");
  return wrangler(args, { timeoutMs });
}

/** One-row, one-column query; returns the value. */
export async function d1Value(sql) {
  const out = await d1Execute(sql, { json: true });
  let rows;
  try {
    rows = JSON.parse(out)[0]?.results;
  } catch {
    fail(`wrangler d1 execute --json: output is not JSON: ${out.slice(0, 300)}`);
  }
  const row = rows?.[0];
  if (!row) fail(`wrangler d1 execute: no row for ${sql}`);
  return Object.values(row)[0];
}

/**
 * Makes an existing user an admin in the bench's D1: `npm run admin:create` (scripts/admin-create.mjs,
 * the one way to get a first admin) with `--persist-to` the bench's directory, run in bench/.state/tree.
 */
export async function makeAdmin(email) {
  let stdout;
  try {
    ({ stdout } = await execFileAsync(
      "node",
      [join(ROOT, "scripts", "admin-create.mjs"), "--email", email, "--persist-to", PERSIST_DIR],
      { cwd: TREE_DIR, env: childEnv(), timeout: 120_000, killSignal: "SIGKILL" },
    ));
  } catch (error) {
    const output = `${error.stdout ?? ""}\n${error.stderr ?? ""}`.trim().split("\n").slice(-15).join("\n");
    fail(`admin-create --email ${email} failed (${error.killed ? "timed out" : `exit ${error.code}`}):\n${output}`);
  }
  if (!stdout.includes(`${email} is an admin`)) fail(`admin-create: unexpected output: ${stdout.slice(0, 300)}`);
}

/** Applies the D1 migrations to the bench's persist directory (as `npm run dev` does to the default one). */
export function migrate() {
  return wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", PERSIST_DIR]);
}

/** A `wrangler dev` in its own process group, so the whole tree (wrangler, workerd) can be ended. */
export class DevServer {
  #child;
  #log = [];
  #exited = null;

  /** `args`: wrangler dev arguments besides --port, --ip and --persist-to. Runs in bench/.state/tree. */
  constructor(port, args) {
    this.port = port;
    this.base = `http://${HOST}:${port}`;
    this.#child = spawn(WRANGLER, ["dev", "--port", String(port), "--ip", HOST, "--persist-to", PERSIST_DIR, ...args], {
      cwd: TREE_DIR,
      env: childEnv(),
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

  logTail(lines = 40) {
    return this.#log
      .filter((line) => line.trim() !== "")
      .slice(-lines)
      .join("\n");
  }

  /** Polls `path` until it answers 200. */
  async waitUntilReady(path, timeoutMs) {
    const deadline = performance.now() + timeoutMs;
    let last = "no answer yet";
    while (performance.now() < deadline) {
      if (this.#exited) fail(`the dev server ${this.#exited} before ${path} answered`);
      try {
        const res = await fetch(`${this.base}${path}`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
        last = `HTTP ${res.status}`;
      } catch (error) {
        last = error.cause?.code ?? error.message;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    fail(`GET ${path} did not answer 200 within ${timeoutMs / 1000} s (last: ${last})`);
  }

  /**
   * The address of the Worker itself, behind wrangler's dev proxy: `wrangler dev`
   * serves the port it is given from a proxy Worker (in a workerd process of its
   * own) that forwards each request to the user Worker's workerd, on a port it
   * does not print. Requests sent there straight measure the Worker without the
   * dev tool's extra hop, which production does not have. Found from /proc (the
   * loopback TCP listeners of this server's process group) and confirmed by
   * asking each candidate for `path`; null where /proc is not there (not Linux).
   */
  async directBase(path, isSelf) {
    const ports = listeningPortsOfGroup(this.#child.pid).filter((port) => port !== this.port);
    for (const port of ports) {
      const base = `http://${HOST}:${port}`;
      try {
        const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(2_000) });
        const text = await res.text();
        if (res.status === 200 && isSelf(text)) return base;
      } catch {
        // not an HTTP listener (or not this one): try the next
      }
    }
    return null;
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

/** Loopback TCP ports in LISTEN state held by processes of process group `pgid` (Linux /proc). */
function listeningPortsOfGroup(pgid) {
  if (pgid === undefined || !existsSync("/proc/net/tcp")) return [];
  const inodes = new Set();
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      // Fields after the parenthesised command name: state, ppid, pgrp, …
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) !== pgid) continue;
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1]);
      }
    } catch {
      // the process ended meanwhile, or is not ours to read
    }
  }
  const ports = [];
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; 0100007F is 127.0.0.1.
    if (fields.length < 10 || fields[3] !== "0A" || !inodes.has(fields[9])) continue;
    const [ip, port] = fields[1].split(":");
    if (ip === "0100007F") ports.push(Number.parseInt(port, 16));
  }
  return ports.sort((a, b) => a - b);
}
