// `npm run dev`: works on a fresh clone with no Cloudflare account.
//  1. writes .dev.vars (git-ignored) with fresh development secrets if it is missing;
//  2. applies the D1 migrations to the local database;
//  3. starts `wrangler dev` (http://localhost:8787), passing extra arguments through:
//     npm run dev -- --port 8790 --ip 127.0.0.1
import { spawn, spawnSync } from "node:child_process";
import { writeDevVarsIfMissing } from "./dev-secrets.mjs";

const DEV_VARS = ".dev.vars";
const wrangler = "node_modules/.bin/wrangler";

if (await writeDevVarsIfMissing(DEV_VARS)) {
  console.log(`[edgelock] wrote ${DEV_VARS} with fresh development keys and pepper`);
}

const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local"], {
  stdio: "inherit",
  env: { ...process.env, CI: "true" },
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const dev = spawn(wrangler, ["dev", ...process.argv.slice(2)], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));
