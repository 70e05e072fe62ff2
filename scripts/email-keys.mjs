// `npm run users:email-keys -- [--remote]`: computes the uniqueness key
// (src/lib/email.ts emailKey: NFKC and case folding) of every account that has
// none yet (migration 0010 keys ASCII-only addresses in SQL; D1's SQL has no
// Unicode normalization for the rest). Accounts whose keys collide, with each
// other or with an account keyed already, are two accounts for one address:
// they are reported and left as they are, never merged. Local D1 by default;
// extra wrangler flags (e.g. --persist-to DIR) pass through. Exit code 3 when
// it reported collisions.
import { spawnSync } from "node:child_process";
import { emailKey } from "../src/lib/email.ts";

const args = process.argv.slice(2);
const where = args.includes("--remote") ? [] : ["--local"];

function d1(sql) {
  const run = spawnSync(
    "node_modules/.bin/wrangler",
    ["d1", "execute", "DB", ...where, ...args, "--json", "--command", sql],
    {
      encoding: "utf8",
      env: { ...process.env, CI: "true" },
    },
  );
  if (run.status !== 0) {
    console.error(run.stderr || run.stdout);
    process.exit(run.status ?? 1);
  }
  return JSON.parse(run.stdout).at(-1)?.results ?? [];
}

/** A string as an SQL literal that no quote inside it can break out of. */
const literal = (text) => `CAST(X'${Buffer.from(text, "utf8").toString("hex")}' AS TEXT)`;

const unkeyed = d1("SELECT id, email FROM users WHERE email_key IS NULL");
const keyed = new Map(
  d1("SELECT id, email, email_key FROM users WHERE email_key IS NOT NULL").map((u) => [u.email_key, u]),
);
const byKey = new Map();
for (const user of unkeyed) {
  const key = emailKey(user.email);
  byKey.set(key, [...(byKey.get(key) ?? []), user]);
}
const updates = [];
const collisions = [];
for (const [key, users] of byKey) {
  const existing = keyed.get(key);
  if (users.length > 1 || existing) collisions.push({ key, accounts: [...(existing ? [existing] : []), ...users] });
  else
    updates.push(
      `UPDATE users SET email_key = ${literal(key)} WHERE id = ${literal(users[0].id)} AND email_key IS NULL;`,
    );
}
if (updates.length > 0) d1(updates.join("\n"));
console.log(`keyed ${updates.length} account(s); ${collisions.length} address(es) with more than one account`);
for (const { key, accounts } of collisions) {
  console.log(`collision ${key}: ${accounts.map((a) => `${a.id} <${a.email}>`).join(", ")}`);
}
if (collisions.length > 0) process.exit(3);
