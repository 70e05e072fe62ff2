// The public library's boundary, checked on the bundle a consumer gets: src/verify
// bundled with esbuild must consist of src/verify itself, jose and hono, nothing else.
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { build } from "esbuild";

const root = path.resolve(import.meta.dirname, "..", "..");
const allowed = ["src/verify/", "node_modules/jose/", "node_modules/hono/"];

test("src/verify bundles from its own files, jose and hono only", async () => {
  const result = await build({
    entryPoints: [path.join(root, "src", "verify", "index.ts")],
    absWorkingDir: root,
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    logLevel: "silent",
  });
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(
    inputs.some((input) => input.startsWith("src/verify/")),
    "the bundle has no src/verify input",
  );
  const outside = inputs.filter((input) => !allowed.some((prefix) => input.startsWith(prefix)));
  assert.deepEqual(outside, [], `src/verify pulls in files from outside: ${outside.join(", ")}`);
});
