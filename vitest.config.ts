import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { build } from "esbuild";
import { defineConfig } from "vitest/config";
import { generateDevSecrets } from "./scripts/dev-secrets.mjs";

const root = import.meta.dirname;
const PROJECT = "edgelock";
const AUTH_WORKER = `vitest-plugin-runner-${PROJECT}`;

/** The example API Worker, bundled to one module so it can run as an auxiliary Worker. */
async function buildExampleApiWorker(): Promise<string> {
  const outfile = path.join(root, ".wrangler", "test", "api-worker.mjs");
  await build({
    entryPoints: [path.join(root, "examples", "api-worker", "src", "index.ts")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*"],
    logLevel: "warning",
  });
  return outfile;
}

// Tests run inside workerd with the real D1, KV and Durable Object bindings from
// wrangler.toml (local storage, isolated per test file). Vars are overridden
// for tests and fresh secrets are generated for every run: nothing secret is
// committed and nothing depends on .dev.vars. The example API Worker runs
// beside the auth Worker, bound to it as it would be when deployed.
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(root, "migrations"));
  const secrets = await generateDevSecrets();
  const apiWorker = await buildExampleApiWorker();
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            ENVIRONMENT: "test",
            ISSUER: "https://auth.test",
            PUBLIC_URL: "https://auth.test",
            ACCESS_TOKEN_AUDIENCE: "https://api.test",
            MAIL_TRANSPORT: "outbox",
            MAIL_FROM: "edgelock <no-reply@auth.test>",
            // The floor, not production's 100,000: hashing is most of the suite's time, and no test measures it.
            PBKDF2_ITERATIONS: "10000",
            ...secrets,
            TEST_MIGRATIONS: migrations,
          },
          serviceBindings: {
            EXAMPLE_API: "example-api",
            JWKS_PROXY: "jwks-proxy",
            // The auth Worker's own RPC entrypoint, so tests can call it as a bound Worker would.
            AUTH_SERVICE: { name: AUTH_WORKER, entrypoint: "AuthService" },
          },
          workers: [
            {
              name: "example-api",
              modules: true,
              scriptPath: apiWorker,
              compatibilityDate: "2026-10-01",
              bindings: {
                ISSUER: "https://auth.test",
                AUDIENCE: "https://api.test",
                JWKS_URL: "https://auth.test/.well-known/jwks.json",
              },
              // The auth Worker runs as the plugin's runner Worker, named after the project.
              // The JWKS comes through jwks-proxy, which adds keys a test rotates in.
              serviceBindings: {
                AUTH: "jwks-proxy",
                AUTH_RPC: { name: AUTH_WORKER, entrypoint: "AuthService" },
              },
              // The same namespace id as wrangler.toml's REVOCATIONS: the example reads the revocation keys.
              kvNamespaces: { REVOCATIONS: "11111111111111111111111111111111" },
            },
            {
              name: "jwks-proxy",
              modules: true,
              scriptPath: path.join(root, "test", "support", "jwks-proxy.mjs"),
              compatibilityDate: "2026-10-01",
              serviceBindings: { AUTH: AUTH_WORKER },
            },
          ],
        },
      }),
    ],
    test: {
      name: PROJECT,
      setupFiles: ["./test/setup/apply-migrations.ts"],
      include: ["test/**/*.test.ts"],
    },
  };
});
