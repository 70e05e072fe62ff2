// `npm run admin:create`: makes an existing user an admin in a local D1, refuses
// unknown users and addresses that are not plain emails. Runs under node:test
// (npm test) against a throwaway local database.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

const WRANGLER = "node_modules/.bin/wrangler";
let persist;

function wrangler(...args) {
  return spawnSync(WRANGLER, args, { encoding: "utf8", env: { ...process.env, CI: "true" } });
}

/** Runs SQL against the throwaway database and returns the last statement's rows. */
function d1(sql) {
  const run = wrangler("d1", "execute", "DB", "--local", "--persist-to", persist, "--json", "--command", sql);
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout).at(-1).results;
}

function adminCreate(...args) {
  return spawnSync("node", ["scripts/admin-create.mjs", ...args, "--persist-to", persist], { encoding: "utf8" });
}

function roles(email) {
  return d1(`SELECT ur.role FROM user_roles ur JOIN users u ON u.id = ur.user_id WHERE u.email = '${email}'`).map(
    (row) => row.role,
  );
}

before(() => {
  persist = mkdtempSync(join(tmpdir(), "edgelock-admin-"));
  assert.equal(wrangler("d1", "migrations", "apply", "DB", "--local", "--persist-to", persist).status, 0);
  d1(
    "INSERT INTO users (id, email, password_hash, created_at, updated_at) VALUES ('u1', 'ada@example.com', 'x', 1, 1)",
  );
});

after(() => rmSync(persist, { recursive: true, force: true }));

test("makes an existing user an admin, matching the email as the Worker normalizes it", () => {
  const run = adminCreate("--email", "  Ada@Example.COM ");
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /ada@example\.com is an admin/);
  assert.deepEqual(roles("ada@example.com"), ["admin"]);
  const audit = wrangler(
    "d1",
    "execute",
    "DB",
    "--local",
    "--persist-to",
    persist,
    "--json",
    "--command",
    "SELECT event, details FROM audit_log",
  );
  assert.deepEqual(JSON.parse(audit.stdout)[0].results, [
    { event: "role_assigned", details: '{"role":"admin","by":"admin:create"}' },
  ]);
  // Running it again changes nothing (and audits nothing).
  assert.equal(adminCreate("--email", "ada@example.com").status, 0);
  assert.deepEqual(roles("ada@example.com"), ["admin"]);
});

test("refuses an unknown user, and anything that is not a plain email", () => {
  const unknown = adminCreate("--email", "nobody@example.com");
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /sign up first/);
  const injection = adminCreate("--email", "x'; DELETE FROM users; --@example.com");
  assert.equal(injection.status, 2);
  assert.equal(adminCreate().status, 2);
});
