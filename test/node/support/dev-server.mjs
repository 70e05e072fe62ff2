// A `wrangler dev` of the auth Worker for the node:test suites: its own local
// storage (migrated first), a free loopback port, ISSUER and PUBLIC_URL on that
// port; and Debian's chromium, launched the way every browser test launches it.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeDevVarsIfMissing } from "../../../scripts/dev-secrets.mjs";

export const CHROMIUM = "/usr/bin/chromium";
const WRANGLER = "node_modules/.bin/wrangler";
export const PASSWORD = "correct horse battery staple";

/** Why the browser tests cannot run here, or false. */
export const noChromium = existsSync(CHROMIUM)
  ? false
  : "Debian's chromium is not installed (apt-get install chromium); .ci/run installs it";

export async function freePort() {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitForHealth(base) {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error("wrangler dev did not become ready in 90 s");
}

/** Starts the server; `stop()` ends its process group and deletes its storage. */
export async function startDevServer(extraVars = {}) {
  await writeDevVarsIfMissing();
  const port = await freePort();
  const persistDir = mkdtempSync(join(tmpdir(), "edgelock-node-test-"));
  const migrate = spawnSync(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir], {
    env: { ...process.env, CI: "true" },
    encoding: "utf8",
  });
  assert.equal(migrate.status, 0, migrate.stderr);
  const origin = `http://localhost:${port}`;
  const vars = { ISSUER: origin, PUBLIC_URL: origin, ...extraVars };
  const args = ["dev", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", persistDir];
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  const child = spawn(WRANGLER, args, {
    detached: true,
    stdio: "ignore",
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
  });
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    rmSync(persistDir, { recursive: true, force: true });
  };
  try {
    await waitForHealth(`http://127.0.0.1:${port}`);
  } catch (error) {
    stop();
    throw error;
  }
  return { port, origin, api: `http://127.0.0.1:${port}`, stop };
}

export async function launchChromium(chromium) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A verified account, made through the API and the development outbox. */
export async function signUpAndVerify(api, email, password = PASSWORD) {
  const post = (path, body) =>
    fetch(`${api}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  assert.equal((await post("/auth/signup", { email, password })).status, 202);
  const mails = await (await fetch(`${api}/_dev/outbox?to=${encodeURIComponent(email)}`)).json();
  const token = /token=([A-Za-z0-9_-]+)/.exec(mails[0].text)[1];
  assert.equal((await post("/auth/verify-email", { token, password })).status, 200);
}
