// Builds the publishable library: src/verify -> packages/edgelock/dist/verify
// (ES modules + .d.ts, tsconfig.verify.json), and copies the LICENSE beside it.
// `npm run build:verify`, then `npm pack ./packages/edgelock` for a tarball.
import { execFileSync } from "node:child_process";
import { copyFileSync, rmSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const pkg = path.join(root, "packages", "edgelock");
rmSync(path.join(pkg, "dist"), { recursive: true, force: true });
execFileSync(
  process.execPath,
  [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.verify.json"],
  {
    cwd: root,
    stdio: "inherit",
  },
);
copyFileSync(path.join(root, "LICENSE"), path.join(pkg, "LICENSE"));
