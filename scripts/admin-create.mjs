// `npm run admin:create -- --email <email> [--remote]`: makes an existing user an
// admin, the one way to get the first admin (no endpoint lets anyone grant
// themselves a role). Local D1 by default; --remote for the deployed database.
// Extra wrangler flags (e.g. --persist-to DIR) pass through.
import { spawnSync } from "node:child_process";
import { emailKey, normalizeEmail } from "../src/lib/email.ts";

const args = process.argv.slice(2);
const emailIndex = args.indexOf("--email");
const raw = emailIndex >= 0 ? args[emailIndex + 1] : undefined;
const rest = args.filter((_, i) => i !== emailIndex && i !== emailIndex + 1);
if (!raw) {
  console.error("usage: npm run admin:create -- --email <email> [--remote]");
  process.exit(2);
}
// The Worker's own normalization and key (src/lib/email.ts). The address goes
// into SQL, so it must be plain: anything with a quote or a backslash is refused.
const email = normalizeEmail(raw);
const key = emailKey(raw);
const plain = /^[^\s@'"\\;]{1,64}@[^\s@'"\\;.]+(\.[^\s@'"\\;.]+)+$/u;
if (!plain.test(email) || !plain.test(key)) {
  console.error(`not a plain email address: ${raw}`);
  process.exit(2);
}
const where = rest.includes("--remote") ? [] : ["--local"];
const now = Date.now();
// The account as the Worker finds it: by key, or by stored address while not yet keyed.
const matchOf = (t) => `(${t}email_key = '${key}' OR (${t}email_key IS NULL AND ${t}email = '${email}'))`;
// Exactly one account, or none is touched: two accounts for one address (not yet
// told apart by `npm run users:email-keys`) must not both become admins.
const match = `${matchOf("")} AND (SELECT COUNT(*) FROM users WHERE ${matchOf("")}) = 1`;
const sql = `INSERT INTO user_roles (user_id, role, granted_at, granted_by)
  SELECT id, 'admin', ${now}, NULL FROM users WHERE ${match} ON CONFLICT DO NOTHING;
  INSERT INTO audit_log (created_at, event, user_id, details)
  SELECT ${now}, 'role_assigned', id, '{"role":"admin","by":"admin:create"}' FROM users WHERE ${match} AND changes() > 0;
  SELECT u.email, ur.role FROM users u JOIN user_roles ur ON ur.user_id = u.id WHERE ${matchOf("u.")} AND ur.role = 'admin';
  SELECT COUNT(*) AS n FROM users WHERE ${matchOf("")};`;
const run = spawnSync(
  "node_modules/.bin/wrangler",
  ["d1", "execute", "DB", ...where, ...rest, "--json", "--command", sql],
  {
    encoding: "utf8",
    env: { ...process.env, CI: "true" },
  },
);
if (run.status !== 0) {
  console.error(run.stderr || run.stdout);
  process.exit(run.status ?? 1);
}
const results = JSON.parse(run.stdout);
const matching = results.at(-1)?.results?.[0]?.n ?? 0;
if (matching > 1) {
  console.error(`${matching} accounts match ${email}: run npm run users:email-keys and resolve the collision first`);
  process.exit(1);
}
const granted = results.at(-2)?.results ?? [];
if (granted.length === 0) {
  console.error(`no user with the email ${email}: sign up first`);
  process.exit(1);
}
console.log(`${email} is an admin`);
