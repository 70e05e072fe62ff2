// Migrations 0008 and 0009 on a database that holds data: every row survives
// (no cascade from rebuilding a referenced table), one-time tokens move into
// one_time_secrets with their purpose and payload, the password column becomes
// nullable, and sessions get amr and auth_time; 0013 gives existing users the
// member role. Runs against a throwaway local D1.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

const WRANGLER = "node_modules/.bin/wrangler";
let dir;

function execute(args) {
  const run = spawnSync(WRANGLER, ["d1", "execute", "DB", "--local", "--persist-to", dir, "--json", ...args], {
    encoding: "utf8",
    env: { ...process.env, CI: "true" },
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

const query = (sql) => execute(["--command", sql]).at(-1).results;

function runFile(name, sql) {
  const path = join(dir, name);
  writeFileSync(path, sql);
  execute(["--file", path]);
}

const migrations = readdirSync("migrations").sort();
const upTo = (last) =>
  migrations.filter((file) => file <= last).map((file) => readFileSync(join("migrations", file), "utf8"));

before(() => {
  dir = mkdtempSync(join(tmpdir(), "edgelock-migrations-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("0008 and 0009 keep every row and move one-time tokens into one_time_secrets", () => {
  const seed = `
    INSERT INTO users (id, email, password_hash, email_verified_at, created_at, updated_at)
      VALUES ('u1', 'ada@example.com', 'pbkdf2-sha256$100000$p1$salt$hash', 5, 1, 1);
    INSERT INTO email_verification_tokens (token_hash, user_id, password_hash, expires_at, created_at)
      VALUES ('v-pending', 'u1', 'pbkdf2-sha256$100000$p1$s2$h2', 1000, 1), ('v-plain', 'u1', NULL, 1000, 1);
    INSERT INTO password_reset_tokens (token_hash, user_id, expires_at, used_at, created_at) VALUES ('r1', 'u1', 2000, 3, 2);
    INSERT INTO sessions (id, user_id, kind, token_hash, created_at, last_seen_at, expires_at)
      VALUES ('s1', 'u1', 'refresh', NULL, 7, 7, 99999);
    INSERT INTO user_roles (user_id, role, granted_at) VALUES ('u1', 'admin', 1);`;
  runFile("before.sql", `${upTo("0007_api_keys.sql").join("\n")}\n${seed}`);
  runFile(
    "after.sql",
    migrations
      .filter((f) => f > "0007_api_keys.sql")
      .map((f) => readFileSync(join("migrations", f), "utf8"))
      .join("\n"),
  );

  assert.deepEqual(query("SELECT id, email, password_hash FROM users"), [
    { id: "u1", email: "ada@example.com", password_hash: "pbkdf2-sha256$100000$p1$salt$hash" },
  ]);
  // 0013 backfills `member` (which grants nothing) for every existing user.
  assert.deepEqual(query("SELECT role FROM user_roles WHERE user_id = 'u1' ORDER BY role"), [
    { role: "admin" },
    { role: "member" },
  ]);
  assert.deepEqual(query("SELECT permission FROM role_permissions WHERE role = 'member'"), []);
  assert.deepEqual(query("SELECT id, amr, auth_time FROM sessions"), [{ id: "s1", amr: '["pwd"]', auth_time: 7 }]);
  assert.deepEqual(
    query(
      "SELECT token_hash, purpose, user_id, payload, expires_at, used_at FROM one_time_secrets ORDER BY token_hash",
    ),
    [
      { token_hash: "r1", purpose: "password_reset", user_id: "u1", payload: null, expires_at: 2000, used_at: 3 },
      {
        token_hash: "v-pending",
        purpose: "email_verification",
        user_id: "u1",
        payload: '{"password_hash":"pbkdf2-sha256$100000$p1$s2$h2"}',
        expires_at: 1000,
        used_at: null,
      },
      {
        token_hash: "v-plain",
        purpose: "email_verification",
        user_id: "u1",
        payload: null,
        expires_at: 1000,
        used_at: null,
      },
    ],
  );
  const tables = query("SELECT name FROM sqlite_master WHERE type = 'table'").map((row) => row.name);
  assert.ok(!tables.includes("email_verification_tokens") && !tables.includes("password_reset_tokens"));
  // The column is nullable now, and still the one the code reads.
  query("UPDATE users SET password_hash = NULL WHERE id = 'u1'");
  assert.deepEqual(query("SELECT password_hash FROM users WHERE id = 'u1'"), [{ password_hash: null }]);
});

test("0010 keys ASCII addresses in SQL, and users:email-keys keys the rest, reporting collisions", () => {
  // Two accounts that are one address under NFKC ("ｋ" is a fullwidth k), and one with a ligature.
  runFile(
    "users.sql",
    `INSERT INTO users (id, email, email_key, password_hash, created_at, updated_at) VALUES
       ('u-kate', 'kate@example.com', 'kate@example.com', 'h', 1, 1);
     INSERT INTO users (id, email, password_hash, created_at, updated_at) VALUES
       ('u-kate-wide', 'ｋate@example.com', 'h', 1, 1), ('u-fiona', 'ﬁona@example.com', 'h', 1, 1);`,
  );
  const run = spawnSync("node", ["scripts/email-keys.mjs", "--persist-to", dir], { encoding: "utf8" });
  assert.equal(run.status, 3, run.stderr);
  assert.match(run.stdout, /keyed 1 account/);
  assert.match(run.stdout, /collision kate@example\.com: u-kate <kate@example\.com>, u-kate-wide <ｋate@example\.com>/);
  assert.deepEqual(
    query("SELECT id, email_key FROM users WHERE id IN ('u-kate', 'u-kate-wide', 'u-fiona') ORDER BY id"),
    [
      { id: "u-fiona", email_key: "fiona@example.com" },
      { id: "u-kate", email_key: "kate@example.com" },
      { id: "u-kate-wide", email_key: null },
    ],
  );
  // The migration keyed the ASCII address of the earlier test in SQL.
  assert.deepEqual(query("SELECT email_key FROM users WHERE id = 'u1'"), [{ email_key: "ada@example.com" }]);
});
