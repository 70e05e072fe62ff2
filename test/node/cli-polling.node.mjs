// The CLI (examples/cli/edgelock.mjs) against a stub authorization server:
// polling as RFC 8628 §3.5 says (the interval between polls, +5 s after every
// slow_down, stopping at access_denied, expired_token or the code's expiry),
// and what it keeps: hosts.json (0600, one entry per issuer), refresh when the
// access token is expired, a revoked session, logout, --with-token. The clock
// and the sleeps are the test's: nothing waits for real.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, test } from "node:test";
import { DEVICE_GRANT, main } from "../../examples/cli/edgelock.mjs";

/** An access token whose payload the CLI reads (it verifies nothing: the server does). */
function fakeJwt(claims) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none" })}.${part(claims)}.sig`;
}

/**
 * A stub issuer. `script` answers the polls in order (the last one repeats);
 * every request is recorded.
 */
async function stubIssuer() {
  const stub = { requests: [], script: [], refresh: null, userinfoStatus: 200, expiresIn: 600 };
  const server = createServer(async (request, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    const form = Object.fromEntries(new URLSearchParams(body));
    stub.requests.push({ path: request.url, form, authorization: request.headers.authorization });
    const json = (status, value) => {
      response.writeHead(status, { "Content-Type": "application/json" });
      response.end(JSON.stringify(value));
    };
    const issuer = stub.issuer;
    if (request.url === "/.well-known/openid-configuration") {
      return json(200, {
        issuer,
        device_authorization_endpoint: `${issuer}/oauth/device_authorization`,
        token_endpoint: `${issuer}/oauth/token`,
        userinfo_endpoint: `${issuer}/oauth/userinfo`,
        revocation_endpoint: `${issuer}/oauth/revoke`,
      });
    }
    if (request.url === "/oauth/device_authorization") {
      if (form.client_id !== "edgelock-cli") return json(401, { error: "invalid_client" });
      return json(200, {
        device_code: "device-code-1",
        user_code: "BCDF-GHJK",
        verification_uri: `${issuer}/device`,
        verification_uri_complete: `${issuer}/device?user_code=BCDF-GHJK`,
        expires_in: stub.expiresIn,
        interval: 5,
      });
    }
    if (request.url === "/oauth/token" && form.grant_type === DEVICE_GRANT) {
      const next = stub.script.length > 1 ? stub.script.shift() : stub.script[0];
      if (next === "tokens") return json(200, tokens("access-1", "refresh-1"));
      return json(400, { error: next, error_description: "stub" });
    }
    if (request.url === "/oauth/token" && form.grant_type === "refresh_token") {
      if (stub.refresh === "revoked") return json(400, { error: "invalid_grant", error_description: "revoked" });
      return json(200, tokens("access-2", "refresh-2"));
    }
    if (request.url === "/oauth/token") {
      if (form.subject_token !== "elk_0123456789abcdef_secret") return json(400, { error: "invalid_grant" });
      return json(200, {
        access_token: fakeJwt({ sub: "user-1", client_id: "elk_0123456789abcdef", scope: "posts:read" }),
        token_type: "Bearer",
        expires_in: 600,
        scope: "posts:read",
      });
    }
    if (request.url === "/oauth/userinfo") {
      if (stub.userinfoStatus !== 200) return json(stub.userinfoStatus, { error: "invalid_token" });
      return json(200, { sub: "user-1", email: "ada@example.com", seen: request.headers.authorization });
    }
    if (request.url === "/oauth/revoke") {
      response.writeHead(200);
      return response.end();
    }
    json(404, { error: "not_found" });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  stub.issuer = `http://127.0.0.1:${server.address().port}`;
  stub.close = () => new Promise((resolve) => server.close(resolve));
  stub.polls = () => stub.requests.filter((r) => r.form.grant_type === DEVICE_GRANT).length;
  return stub;
}

function tokens(access, refresh) {
  return {
    access_token: fakeJwt({ sub: "user-1", access }),
    token_type: "Bearer",
    expires_in: 600,
    scope: "openid email offline_access",
    refresh_token: refresh,
  };
}

let stub;
let configHome;
const configHomes = [];

before(async () => {
  stub = await stubIssuer();
});
after(() => stub.close());
beforeEach(() => {
  configHome = mkdtempSync(join(tmpdir(), "edgelock-cli-test-"));
  configHomes.push(configHome);
  stub.requests = [];
  stub.script = [];
  stub.refresh = null;
  stub.userinfoStatus = 200;
  stub.expiresIn = 600;
});

/** Runs the CLI in-process with a fake clock that the sleeps move; answers the exit code, output and sleeps. */
async function run(argv, { stdin = "" } = {}) {
  let clock = 1_700_000_000_000;
  const out = { stdout: "", stderr: "", sleeps: [], opened: [] };
  const code = await main(argv, {
    env: { XDG_CONFIG_HOME: configHome },
    stdout: { write: (text) => (out.stdout += text) },
    stderr: { write: (text) => (out.stderr += text) },
    sleep: async (ms) => {
      out.sleeps.push(ms / 1000);
      clock += ms;
    },
    now: () => clock,
    openBrowser: async (url) => {
      out.opened.push(url);
      return true;
    },
    readStdin: async () => stdin,
  });
  return { code, ...out };
}

const hosts = () => JSON.parse(readFileSync(join(configHome, "edgelock", "hosts.json"), "utf8"));

test("polls pending → slow_down → success, waiting the interval and 5 s more after slow_down", async () => {
  stub.script = ["authorization_pending", "slow_down", "tokens"];
  const result = await run(["login", "--issuer", stub.issuer, "--no-browser"]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.sleeps, [5, 5, 10]);
  assert.equal(stub.polls(), 3);
  assert.match(result.stderr, /Your one-time code: BCDF-GHJK/);
  assert.match(result.stderr, new RegExp(`Open ${stub.issuer}/device in a browser`));
  assert.deepEqual(result.opened, []);
  assert.equal(result.stdout, "Logged in as ada@example.com\n");
  const poll = stub.requests.find((r) => r.form.grant_type === DEVICE_GRANT);
  assert.deepEqual(poll.form, { grant_type: DEVICE_GRANT, device_code: "device-code-1", client_id: "edgelock-cli" });
});

test("the interval grows by 5 s for every slow_down and stays grown", async () => {
  stub.script = ["slow_down", "slow_down", "authorization_pending", "slow_down", "tokens"];
  const result = await run(["login", "--issuer", stub.issuer]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.sleeps, [5, 10, 15, 15, 20]);
  assert.deepEqual(result.opened, [`${stub.issuer}/device?user_code=BCDF-GHJK`]);
});

test("stops when the code expires: expired_token, or its expires_in has passed", async () => {
  stub.script = ["authorization_pending", "expired_token"];
  const answered = await run(["login", "--issuer", stub.issuer, "--no-browser"]);
  assert.equal(answered.code, 1);
  assert.match(answered.stderr, /The code expired before it was approved/);

  stub.requests = [];
  stub.script = ["authorization_pending"];
  stub.expiresIn = 12;
  const timedOut = await run(["login", "--issuer", stub.issuer, "--no-browser"]);
  assert.equal(timedOut.code, 1);
  assert.match(timedOut.stderr, /The code expired before it was approved/);
  assert.deepEqual(timedOut.sleeps, [5, 5, 5]);
  assert.equal(stub.polls(), 2);
});

test("stops at access_denied with a clear message, and keeps nothing", async () => {
  stub.script = ["authorization_pending", "access_denied"];
  const result = await run(["login", "--issuer", stub.issuer, "--no-browser"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /The login was denied in the browser/);
  assert.throws(() => hosts(), /ENOENT/);
});

test("says so when the issuer cannot be reached, or does not know the client", async () => {
  const unreachable = await run(["login", "--issuer", "http://127.0.0.1:9", "--no-browser"]);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /cannot reach http:\/\/127\.0\.0\.1:9/);
  const unknown = await run(["login", "--issuer", stub.issuer, "--client-id", "nope", "--no-browser"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /does not know the client nope: pass --client-id/);
});

test("keeps the credentials in $XDG_CONFIG_HOME/edgelock/hosts.json, mode 0600, one entry per issuer", async () => {
  stub.script = ["tokens"];
  assert.equal((await run(["login", "--issuer", stub.issuer, "--no-browser"])).code, 0);
  const other = await stubIssuer();
  try {
    other.script = ["tokens"];
    assert.equal((await run(["login", "--issuer", other.issuer, "--no-browser"])).code, 0);
    const path = join(configHome, "edgelock", "hosts.json");
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const saved = hosts();
    assert.deepEqual(Object.keys(saved).sort(), [stub.issuer, other.issuer].sort());
    assert.equal(saved[stub.issuer].refresh_token, "refresh-1");
    assert.equal(saved[stub.issuer].user.email, "ada@example.com");
    // Two hosts: whoami must be told which.
    const whoami = await run(["whoami", "--issuer", other.issuer]);
    assert.equal(whoami.stdout, "ada@example.com\n");
  } finally {
    await other.close();
  }
});

test("whoami refreshes an expired access token first, and keeps the rotated refresh token", async () => {
  stub.script = ["tokens"];
  assert.equal((await run(["login", "--issuer", stub.issuer, "--no-browser"])).code, 0);
  // run() starts its clock at the same instant each time; make the saved token old.
  const path = join(configHome, "edgelock", "hosts.json");
  const saved = hosts();
  saved[stub.issuer].expires_at = 0;
  writeFileSync(path, JSON.stringify(saved));
  const whoami = await run(["whoami"]);
  assert.equal(whoami.code, 0, whoami.stderr);
  assert.equal(whoami.stdout, "ada@example.com\n");
  const refresh = stub.requests.find((r) => r.form.grant_type === "refresh_token");
  assert.deepEqual(refresh.form, {
    grant_type: "refresh_token",
    refresh_token: "refresh-1",
    client_id: "edgelock-cli",
  });
  assert.equal(hosts()[stub.issuer].refresh_token, "refresh-2");
  assert.match(stub.requests.at(-1).authorization, /^Bearer /);
  const token = await run(["token"]);
  assert.equal(token.stdout, `${hosts()[stub.issuer].access_token}\n`);
});

test("a revoked session: a clear error, and the entry is forgotten", async () => {
  stub.script = ["tokens"];
  assert.equal((await run(["login", "--issuer", stub.issuer, "--no-browser"])).code, 0);
  stub.userinfoStatus = 401;
  stub.refresh = "revoked";
  const whoami = await run(["whoami"]);
  assert.equal(whoami.code, 1);
  assert.match(whoami.stderr, /Your session has ended at .* Run `edgelock login` again/);
  assert.deepEqual(hosts(), {});
  const again = await run(["whoami", "--issuer", stub.issuer]);
  assert.match(again.stderr, /You are not logged in to/);
});

test("logout revokes the refresh token and forgets it", async () => {
  stub.script = ["tokens"];
  assert.equal((await run(["login", "--issuer", stub.issuer, "--no-browser"])).code, 0);
  const result = await run(["logout"]);
  assert.equal(result.code, 0, result.stderr);
  const revoke = stub.requests.find((r) => r.path === "/oauth/revoke");
  assert.deepEqual(revoke.form, { token: "refresh-1", token_type_hint: "refresh_token", client_id: "edgelock-cli" });
  assert.deepEqual(hosts(), {});
});

test("login --with-token reads an API key from stdin, checks it by exchanging it, and whoami names the key", async () => {
  const wrong = await run(["login", "--with-token", "--issuer", stub.issuer], { stdin: "elk_nope\n" });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /The token was not accepted/);
  const result = await run(["login", "--with-token", "--issuer", stub.issuer], {
    stdin: "elk_0123456789abcdef_secret\n",
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "Logged in as user-1 with API key elk_0123456789abcdef\n");
  assert.equal(hosts()[stub.issuer].api_key, "elk_0123456789abcdef_secret");
  const whoami = await run(["whoami"]);
  assert.match(whoami.stdout, /^user-1 \(API key elk_0123456789abcdef; scopes: posts:read\)/);
});

after(() => {
  for (const dir of configHomes) rmSync(dir, { recursive: true, force: true });
});
