#!/usr/bin/env node
// edgelock: log in to an edgelock server from a terminal, the way `gh auth login` does.
// Plain Node (22+), no dependencies, no build step:
//
//   node examples/cli/edgelock.mjs login [--issuer URL] [--no-browser] [--client-id ID]
//   node examples/cli/edgelock.mjs login --with-token [--issuer URL] < key.txt
//   node examples/cli/edgelock.mjs whoami | token | logout [--issuer URL]
//
// `login` runs the device authorization grant (RFC 8628): it shows a code and a
// URL, opens the browser, and polls the token endpoint as §3.5 says (the interval,
// 5 s more after every slow_down, until the code expires). Credentials go to
// $XDG_CONFIG_HOME/edgelock/hosts.json (default ~/.config/edgelock/hosts.json),
// mode 0600, one entry per issuer. Messages go to stderr; results (the user, a
// token) to stdout, so scripts can read them.
import { spawn } from "node:child_process";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const API_KEY_TOKEN_TYPE = "urn:edgelock:params:oauth:token-type:api-key";
const DEFAULT_ISSUER = "http://localhost:8787";
const DEFAULT_CLIENT_ID = "edgelock-cli";
const SCOPE = "openid email offline_access";
/** RFC 8628 §3.5: what each slow_down adds to the interval, in seconds. */
const SLOW_DOWN_STEP = 5;
/** An access token this close to its expiry is refreshed first. */
const EXPIRY_MARGIN_MS = 30_000;
const HTTP_TIMEOUT_MS = 15_000;

const USAGE = `usage: edgelock <command> [options]

  login [--issuer URL] [--no-browser] [--client-id ID]   log in with a code shown here and approved in a browser
  login --with-token [--issuer URL]                      log in with an API key read from stdin
  whoami [--issuer URL]                                  who you are logged in as
  token [--issuer URL]                                   print a valid access token (for scripts)
  logout [--issuer URL]                                  revoke the session and forget it

The issuer defaults to $EDGELOCK_ISSUER, else the one you are logged in to, else ${DEFAULT_ISSUER}.`;

/** A failure the user can act on: its message is printed as it is, and the exit code is 1. */
export class CliError extends Error {}

// ---------------------------------------------------------------- credentials

export function hostsFile(env = process.env) {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "edgelock", "hosts.json");
}

export async function readHosts(env = process.env) {
  const path = hostsFile(env);
  let text;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (error.code === "ENOENT") return {};
    throw new CliError(`cannot read ${path}: ${error.message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not valid JSON: fix or delete it`);
  }
}

/** Writes the file whole, as 0600 from its first byte (a temporary file, then a rename). */
export async function writeHosts(hosts, env = process.env) {
  const path = hostsFile(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(hosts, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

async function saveHost(issuer, entry, env) {
  const hosts = await readHosts(env);
  if (entry === null) delete hosts[issuer];
  else hosts[issuer] = entry;
  await writeHosts(hosts, env);
}

// ---------------------------------------------------------------- HTTP

function normalizeIssuer(issuer) {
  let url;
  try {
    url = new URL(issuer);
  } catch {
    throw new CliError(`not a URL: ${issuer}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new CliError(`not an http(s) URL: ${issuer}`);
  return url.href.replace(/\/+$/, "");
}

async function send(url, init) {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  } catch (error) {
    const cause = error.cause?.code ?? error.cause?.message ?? error.message;
    throw new CliError(`cannot reach ${new URL(url).origin} (${cause}): is the issuer right, and is it running?`);
  }
}

/** A form POST; answers the status and the JSON body ({} when there is none). */
async function postForm(url, fields, headers = {}) {
  const response = await send(url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json", ...headers },
    body: new URLSearchParams(fields),
  });
  const text = await response.text();
  let body = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw new CliError(`${url} answered ${response.status} with something that is not JSON`);
  }
  return { status: response.status, body };
}

/** RFC 8414 / OIDC Discovery: the issuer's endpoints; its `issuer` must be the one asked for (RFC 8414 §3.3). */
export async function discover(issuer) {
  const response = await send(`${issuer}/.well-known/openid-configuration`, {
    headers: { Accept: "application/json" },
  });
  if (!response.ok)
    throw new CliError(`${issuer} has no OpenID configuration (HTTP ${response.status}): is it edgelock?`);
  const metadata = await response.json().catch(() => null);
  if (typeof metadata?.issuer !== "string") throw new CliError(`${issuer} answered no OpenID configuration`);
  if (metadata.issuer !== issuer) {
    throw new CliError(`${issuer} says its issuer is ${metadata.issuer}: use --issuer ${metadata.issuer}`);
  }
  return metadata;
}

function describe(body) {
  return body.error_description ? `${body.error}: ${body.error_description}` : (body.error ?? "unknown error");
}

// ---------------------------------------------------------------- the device grant

/** RFC 8628 §3.1: a device code and a user code for `clientId`. */
export async function startDeviceFlow(metadata, clientId, scope = SCOPE) {
  if (!metadata.device_authorization_endpoint) {
    throw new CliError(`${metadata.issuer} does not offer the device authorization grant`);
  }
  const { status, body } = await postForm(metadata.device_authorization_endpoint, { client_id: clientId, scope });
  if (status !== 200) {
    if (body.error === "invalid_client") {
      throw new CliError(
        `${metadata.issuer} does not know the client ${clientId}: pass --client-id (see examples/cli/README.md)`,
      );
    }
    throw new CliError(`${metadata.issuer} refused to start a login: ${describe(body)}`);
  }
  return body;
}

const realSleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * RFC 8628 §3.4–3.5: polls until the user answers. Waits `interval` seconds
 * before every poll; slow_down adds 5 s for that poll and all later ones;
 * stops at access_denied, expired_token, or when `expires_in` has passed.
 * `sleep` and `now` are for tests.
 */
export async function pollForTokens({ metadata, clientId, device, sleep = realSleep, now = Date.now }) {
  let interval = Number(device.interval) > 0 ? Number(device.interval) : 5;
  const deadline = now() + Number(device.expires_in ?? 600) * 1000;
  for (;;) {
    await sleep(interval * 1000);
    if (now() >= deadline) throw new CliError("The code expired before it was approved. Run `edgelock login` again.");
    const { status, body } = await postForm(metadata.token_endpoint, {
      grant_type: DEVICE_GRANT,
      device_code: device.device_code,
      client_id: clientId,
    });
    if (status === 200 && body.access_token) return body;
    switch (body.error) {
      case "authorization_pending":
        continue;
      case "slow_down":
        interval += SLOW_DOWN_STEP;
        continue;
      case "access_denied":
        throw new CliError("The login was denied in the browser.");
      case "expired_token":
        throw new CliError("The code expired before it was approved. Run `edgelock login` again.");
      default:
        throw new CliError(`The login failed: ${describe(body)}`);
    }
  }
}

/** Opens `url` in the user's browser ($BROWSER, else the platform's opener); false when that failed. */
function openBrowser(url, env = process.env) {
  const [command, ...args] = env.BROWSER
    ? [env.BROWSER, url]
    : process.platform === "darwin"
      ? ["open", url]
      : process.platform === "win32"
        ? ["cmd", "/c", "start", '""', url]
        : ["xdg-open", url];
  return new Promise((resolve) => {
    try {
      const child = spawn(command, args, { stdio: "ignore", detached: true });
      child.on("error", () => resolve(false));
      child.on("spawn", () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}

// ---------------------------------------------------------------- tokens

function expiresAt(tokens, now) {
  return now() + Number(tokens.expires_in ?? 0) * 1000;
}

function claimsOf(jwt) {
  try {
    return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));
  } catch {
    return {};
  }
}

async function userInfo(entry, accessToken) {
  const response = await send(entry.userinfo_endpoint, { headers: { Authorization: `Bearer ${accessToken}` } });
  if (response.status === 401) return null;
  if (!response.ok) throw new CliError(`${entry.userinfo_endpoint} answered HTTP ${response.status}`);
  return response.json();
}

/** The host's entry, with an access token that is valid now (refreshed, or exchanged from the API key). */
async function freshEntry(issuer, entry, io, { force = false } = {}) {
  const { now } = io;
  if (!force && entry.access_token && entry.expires_at - EXPIRY_MARGIN_MS > now()) return entry;
  let result;
  if (entry.kind === "api_key") {
    result = await postForm(entry.token_endpoint, {
      grant_type: TOKEN_EXCHANGE,
      subject_token: entry.api_key,
      subject_token_type: API_KEY_TOKEN_TYPE,
    });
  } else {
    result = await postForm(entry.token_endpoint, {
      grant_type: "refresh_token",
      refresh_token: entry.refresh_token,
      client_id: entry.client_id,
    });
  }
  if (result.status !== 200) {
    if (result.body.error === "invalid_grant") {
      await saveHost(issuer, null, io.env);
      const what = entry.kind === "api_key" ? "The API key was revoked or has expired" : "Your session has ended";
      throw new CliError(`${what} at ${issuer} (it was revoked, or it expired). Run \`edgelock login\` again.`);
    }
    throw new CliError(`Could not renew the access token: ${describe(result.body)}`);
  }
  const tokens = result.body;
  const renewed = {
    ...entry,
    access_token: tokens.access_token,
    expires_at: expiresAt(tokens, now),
    // Refresh tokens rotate: the new one replaces the old at once.
    ...(tokens.refresh_token ? { refresh_token: tokens.refresh_token } : {}),
  };
  await saveHost(issuer, renewed, io.env);
  return renewed;
}

// ---------------------------------------------------------------- commands

async function chooseIssuer(options, io) {
  if (options.issuer) return normalizeIssuer(options.issuer);
  if (io.env.EDGELOCK_ISSUER) return normalizeIssuer(io.env.EDGELOCK_ISSUER);
  const known = Object.keys(await readHosts(io.env));
  return known.length === 1 ? known[0] : DEFAULT_ISSUER;
}

async function loggedIn(options, io) {
  const issuer = await chooseIssuer(options, io);
  const entry = (await readHosts(io.env))[issuer];
  if (!entry) throw new CliError(`You are not logged in to ${issuer}. Run \`edgelock login --issuer ${issuer}\`.`);
  return { issuer, entry };
}

async function login(options, io) {
  const issuer = await chooseIssuer(options, io);
  const metadata = await discover(issuer);
  if (options.withToken) return loginWithToken(issuer, metadata, io);
  const clientId = options.clientId ?? io.env.EDGELOCK_CLIENT_ID ?? DEFAULT_CLIENT_ID;
  const device = await startDeviceFlow(metadata, clientId);
  io.stderr.write(`! Your one-time code: ${device.user_code}\n`);
  io.stderr.write(`Open ${device.verification_uri} in a browser and enter the code.\n`);
  const complete = device.verification_uri_complete ?? device.verification_uri;
  if (options.browser) {
    const opened = await io.openBrowser(complete);
    io.stderr.write(opened ? "Opened it in your browser.\n" : `Could not open a browser: go to ${complete}\n`);
  } else {
    io.stderr.write(`(Or go straight to ${complete})\n`);
  }
  io.stderr.write("Waiting for you to approve…\n");
  const tokens = await pollForTokens({ metadata, clientId, device, sleep: io.sleep, now: io.now });
  const user = (await userInfo(metadata, tokens.access_token)) ?? {};
  const entry = {
    kind: "oauth",
    client_id: clientId,
    token_endpoint: metadata.token_endpoint,
    userinfo_endpoint: metadata.userinfo_endpoint,
    revocation_endpoint: metadata.revocation_endpoint,
    user: { sub: user.sub ?? claimsOf(tokens.access_token).sub, email: user.email ?? null },
    scope: tokens.scope ?? SCOPE,
    access_token: tokens.access_token,
    expires_at: expiresAt(tokens, io.now),
    refresh_token: tokens.refresh_token ?? null,
  };
  await saveHost(issuer, entry, io.env);
  io.stdout.write(`Logged in as ${entry.user.email ?? entry.user.sub}\n`);
}

async function loginWithToken(issuer, metadata, io) {
  const key = (await io.readStdin()).trim();
  if (!key) throw new CliError("No token on stdin: pipe an API key in, e.g. `edgelock login --with-token < key.txt`.");
  const { status, body } = await postForm(metadata.token_endpoint, {
    grant_type: TOKEN_EXCHANGE,
    subject_token: key,
    subject_token_type: API_KEY_TOKEN_TYPE,
  });
  if (status !== 200) throw new CliError(`The token was not accepted by ${issuer}: ${describe(body)}`);
  const claims = claimsOf(body.access_token);
  const entry = {
    kind: "api_key",
    token_endpoint: metadata.token_endpoint,
    userinfo_endpoint: metadata.userinfo_endpoint,
    api_key: key,
    user: { sub: claims.sub, email: null },
    scope: body.scope ?? "",
    access_token: body.access_token,
    expires_at: expiresAt(body, io.now),
  };
  await saveHost(issuer, entry, io.env);
  io.stdout.write(`Logged in as ${claims.sub} with API key ${claims.client_id ?? ""}\n`);
}

async function whoami(options, io) {
  const { issuer, entry } = await loggedIn(options, io);
  let current = await freshEntry(issuer, entry, io);
  if (current.kind === "api_key") {
    const claims = claimsOf(current.access_token);
    io.stdout.write(`${claims.sub} (API key ${claims.client_id}; scopes: ${claims.scope || "none"}) at ${issuer}\n`);
    return;
  }
  let info = await userInfo(current, current.access_token);
  if (info === null) {
    // Refused before its expiry (revoked, or the clock is off): one renewal decides.
    current = await freshEntry(issuer, current, io, { force: true });
    info = await userInfo(current, current.access_token);
    if (info === null)
      throw new CliError(`${issuer} refused the session's access token. Run \`edgelock login\` again.`);
  }
  io.stdout.write(`${info.email ?? info.sub}\n`);
}

async function token(options, io) {
  const { issuer, entry } = await loggedIn(options, io);
  io.stdout.write(`${(await freshEntry(issuer, entry, io)).access_token}\n`);
}

async function logout(options, io) {
  const { issuer, entry } = await loggedIn(options, io);
  if (entry.kind === "oauth" && entry.refresh_token && entry.revocation_endpoint) {
    // RFC 7009: revoking the refresh token ends its family, and the access tokens it issued.
    try {
      const { status, body } = await postForm(entry.revocation_endpoint, {
        token: entry.refresh_token,
        token_type_hint: "refresh_token",
        client_id: entry.client_id,
      });
      if (status !== 200) io.stderr.write(`warning: ${issuer} did not revoke the session: ${describe(body)}\n`);
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      io.stderr.write(`warning: ${error.message}; the session was not revoked\n`);
    }
  }
  await saveHost(issuer, null, io.env);
  if (entry.kind === "api_key") {
    io.stderr.write(
      "The API key itself still works: revoke it with DELETE /auth/api-keys/{id} if you are done with it.\n",
    );
  }
  io.stdout.write(`Logged out of ${issuer}\n`);
}

// ---------------------------------------------------------------- main

export function parseArgs(argv) {
  const [command, ...rest] = argv[0]?.startsWith("-") ? [undefined, ...argv] : argv;
  const options = { browser: true, withToken: false };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = () => {
      const next = rest[++i];
      if (next === undefined) throw new CliError(`${arg} needs a value`);
      return next;
    };
    if (arg === "--issuer") options.issuer = value();
    else if (arg.startsWith("--issuer=")) options.issuer = arg.slice("--issuer=".length);
    else if (arg === "--client-id") options.clientId = value();
    else if (arg === "--no-browser") options.browser = false;
    else if (arg === "--with-token") options.withToken = true;
    else if (arg === "--help" || arg === "-h") options.help = true;
    else throw new CliError(`unknown option ${arg}\n\n${USAGE}`);
  }
  return { command, options };
}

const COMMANDS = { login, whoami, token, logout };

async function readAll(stream) {
  let text = "";
  for await (const chunk of stream) text += chunk;
  return text;
}

/** Runs one command; answers the exit code. `io` is for tests. */
export async function main(argv, io = {}) {
  const full = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    sleep: realSleep,
    now: Date.now,
    openBrowser: (url) => openBrowser(url, io.env ?? process.env),
    readStdin: () => readAll(process.stdin),
    ...io,
  };
  try {
    const { command, options } = parseArgs(argv);
    if (options.help || command === "help") {
      full.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const run = COMMANDS[command];
    if (!run) {
      full.stderr.write(`${command ? `unknown command ${command}\n\n` : ""}${USAGE}\n`);
      return 2;
    }
    await run(options, full);
    return 0;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    full.stderr.write(`${error.message}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
