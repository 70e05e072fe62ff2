import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { generateDevSecrets } from "./scripts/dev-secrets.mjs";

// Tests run inside workerd with the real D1, KV and Durable Object bindings from
// wrangler.toml (local storage, isolated per test file). Vars are overridden
// for tests and fresh secrets are generated for every run: nothing secret is
// committed and nothing depends on .dev.vars.
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  const secrets = await generateDevSecrets();
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
            ...secrets,
            TEST_MIGRATIONS: migrations,
          },
        },
      }),
    ],
    test: {
      setupFiles: ["./test/setup/apply-migrations.ts"],
      include: ["test/**/*.test.ts"],
    },
  };
});
