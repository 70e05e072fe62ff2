// The auth Worker's bundle keeps only the zod it uses: `import * as z from "zod"`
// lets esbuild drop zod's 40-odd locales (a named `{ z }` import keeps them all,
// three fifths of the bundle). English, which zod installs at load, stays.
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { build } from "esbuild";

const root = path.resolve(import.meta.dirname, "..", "..");

test("the Worker bundle carries one zod locale, and zod stays under a third of it", async () => {
  const result = await build({
    entryPoints: [path.join(root, "src", "app", "index.ts")],
    absWorkingDir: root,
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*", "node:*", "*.txt"],
    loader: { ".txt": "text" },
    logLevel: "silent",
  });
  const [output] = Object.values(result.metafile.outputs);
  const inputs = Object.entries(output.inputs);
  const locales = inputs.map(([file]) => file).filter((file) => file.includes("/zod/v4/locales/"));
  assert.deepEqual(
    locales.map((file) => path.basename(file)),
    ["en.js"],
  );
  const zodBytes = inputs
    .filter(([file]) => file.includes("node_modules/zod/"))
    .reduce((n, [, v]) => n + v.bytesInOutput, 0);
  assert.ok(zodBytes < output.bytes / 3, `zod is ${zodBytes} of ${output.bytes} bytes`);
});
