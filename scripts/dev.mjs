// `npm run dev`: works on a fresh clone with no Cloudflare account.
//  1. writes .dev.vars (git-ignored) with fresh development secrets if it is missing,
//     or adds an RS256 key to an older one whose JWT_PRIVATE_KEYS has none;
//  2. applies the D1 migrations to the local database;
//  3. starts `wrangler dev` (http://localhost:8787), passing extra arguments through:
//     npm run dev -- --port 8790 --ip 127.0.0.1
//
// ISSUER and PUBLIC_URL follow the port: they are passed to wrangler as
// `--var NAME:http://localhost:<port>` (which wins over .dev.vars and wrangler.toml),
// unless the developer set them: in the environment (`ISSUER=… npm run dev`), with
// their own `--var NAME:…` after `--`, or in .dev.vars to anything other than the
// http://localhost:8787 that `npm run dev` writes there. The port is the last
// `--port` argument, else 8787; dev.mjs always passes it, so that wrangler does not
// quietly move to another port when 8787 is taken.
import { spawn, spawnSync } from "node:child_process";
import {
  addMfaKeyIfMissing,
  addRsaKeyIfMissing,
  DEFAULT_DEV_ORIGIN,
  readDevVars,
  writeDevVarsIfMissing,
} from "./dev-secrets.mjs";

const DEV_VARS = ".dev.vars";
const DEFAULT_PORT = "8787";
const wrangler = "node_modules/.bin/wrangler";

if (await writeDevVarsIfMissing(DEV_VARS)) {
  console.log(`[edgelock] wrote ${DEV_VARS} with fresh development keys and pepper`);
} else {
  const rsa = await addRsaKeyIfMissing(DEV_VARS);
  if (rsa === "added") {
    console.log(
      `[edgelock] added an RS256 key (for OpenID Connect ID tokens) to JWT_PRIVATE_KEYS in ${DEV_VARS}; the existing keys stay first`,
    );
  } else if (rsa !== "present") {
    console.warn(`[edgelock] could not add an RS256 key to ${DEV_VARS}: ${rsa}`);
  }
  if ((await addMfaKeyIfMissing(DEV_VARS)) === "added") {
    console.log(`[edgelock] added MFA_ENCRYPTION_KEY (seals TOTP secrets) to ${DEV_VARS}`);
  }
}

const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local"], {
  stdio: "inherit",
  env: { ...process.env, CI: "true" },
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const args = process.argv.slice(2);
/** The value of the last `--name value` or `--name=value` in args. */
function option(name) {
  let value;
  for (const [i, arg] of args.entries()) {
    if (arg === `--${name}`) value = args[i + 1];
    else if (arg.startsWith(`--${name}=`)) value = arg.slice(name.length + 3);
  }
  return value;
}

const port = option("port") ?? DEFAULT_PORT;
const origin = `${option("local-protocol") === "https" ? "https" : "http"}://localhost:${port}`;
const devVars = await readDevVars(DEV_VARS);
// The extra arguments come first: `--var` takes every value up to the next option,
// so ours must not come before a positional argument such as a script path.
const wranglerArgs = ["dev", ...args];
if (option("port") === undefined) wranglerArgs.push("--port", DEFAULT_PORT);
const shown = [];
for (const name of ["ISSUER", "PUBLIC_URL"]) {
  const ownVar = args.some((arg) => arg.startsWith(`${name}:`) || arg.startsWith(`--var=${name}:`));
  if (ownVar) {
    shown.push(`${name} from your --var`);
    continue;
  }
  let value = origin;
  if (process.env[name]) value = process.env[name];
  else if (devVars[name] && devVars[name] !== DEFAULT_DEV_ORIGIN) value = devVars[name];
  wranglerArgs.push("--var", `${name}:${value}`);
  shown.push(`${name}=${value}`);
}
console.log(`[edgelock] ${shown.join(", ")}`);

const dev = spawn(wrangler, wranglerArgs, { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));
