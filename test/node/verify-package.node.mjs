// `edgelock/verify` as a consumer gets it: build (npm run build:verify), `npm pack`,
// install the tarball into a throwaway project without network, typecheck a
// consumer Worker under moduleResolution bundler and nodenext (both with
// exactOptionalPropertyTypes), with the `ts` blocks of docs/guides/*.md beside it,
// then run it in workerd (wrangler's unstable_dev) and from Node.
//
// Offline installs: jose and hono come from npm's local cache by their registry
// tarball URLs (the cache holds the tarballs this repo installed, but not the
// registry's metadata, so `jose@^6` cannot resolve offline). Where the cache lacks
// them, the copies in this repo's node_modules are packed and installed instead.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { unstable_dev } from "wrangler";

const root = path.resolve(import.meta.dirname, "..", "..");
const fixtures = path.join(import.meta.dirname, "fixtures", "verify-consumer");
const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
const npmCli = process.env.npm_execpath?.endsWith("npm-cli.js") ? process.env.npm_execpath : undefined;
const ISSUER = "https://auth.test";
const AUDIENCE = "https://api.test";

let work;
let consumer;
let tarball;
/** The guides' `ts` code blocks, each written into the consumer as a module of its own. */
let guideFiles = [];

function run(command, args, cwd) {
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}
function npm(args, cwd) {
  return npmCli ? run(process.execPath, [npmCli, ...args], cwd) : run("npm", args, cwd);
}
function versionOf(name) {
  return JSON.parse(readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8")).version;
}
function guideSnippets(dir) {
  const guides = path.join(root, "docs", "guides");
  const files = [];
  for (const guide of readdirSync(guides).filter((name) => name.endsWith(".md"))) {
    const blocks = [...readFileSync(path.join(guides, guide), "utf8").matchAll(/^```ts\n([\s\S]*?)^```$/gm)];
    blocks.forEach((block, index) => {
      const file = `guide-${guide.replace(/\.md$/, "")}-${index + 1}.ts`;
      writeFileSync(path.join(dir, file), block[1]);
      files.push(file);
    });
  }
  return files;
}

function installOffline(specs) {
  npm(["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock", ...specs], consumer);
}

before(() => {
  work = mkdtempSync(path.join(tmpdir(), "edgelock-verify-"));
  consumer = path.join(work, "consumer");
  run(process.execPath, [path.join(root, "scripts", "build-verify.mjs")], root);
  const packed = JSON.parse(
    npm(["pack", "--json", "--pack-destination", work], path.join(root, "packages", "edgelock")),
  );
  tarball = path.join(work, packed[0].filename);
  cpSync(fixtures, consumer, { recursive: true });
  guideFiles = guideSnippets(consumer);
  writeFileSync(
    path.join(consumer, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }),
  );
  const peers = ["jose", "hono"];
  try {
    installOffline([
      tarball,
      ...peers.map((name) => `https://registry.npmjs.org/${name}/-/${name}-${versionOf(name)}.tgz`),
    ]);
  } catch {
    const local = peers.map((name) => {
      const [entry] = JSON.parse(
        npm(["pack", "--json", "--pack-destination", work, path.join(root, "node_modules", name)], work),
      );
      return path.join(work, entry.filename);
    });
    installOffline([tarball, ...local]);
  }
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test("the tarball holds the built library, its package.json, README and LICENSE, nothing else", () => {
  const files = JSON.parse(npm(["pack", "--dry-run", "--json"], path.join(root, "packages", "edgelock")))[0].files.map(
    (file) => file.path,
  );
  const outside = files.filter((file) => !/^dist\/verify\/[a-z-]+\.(js|d\.ts)$/.test(file));
  assert.deepEqual(outside.sort(), ["LICENSE", "README.md", "package.json"]);
  assert.ok(files.includes("dist/verify/index.js") && files.includes("dist/verify/index.d.ts"));
  const installed = readdirSync(path.join(consumer, "node_modules", "edgelock", "dist", "verify"));
  assert.ok(installed.includes("index.d.ts"));
});

for (const resolution of ["bundler", "nodenext"]) {
  test(`a consumer typechecks with moduleResolution ${resolution} and exactOptionalPropertyTypes`, () => {
    const tsconfig = {
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2024"],
        module: resolution === "bundler" ? "ES2022" : "NodeNext",
        moduleResolution: resolution,
        types: [path.join(root, "node_modules", "@cloudflare", "workers-types")],
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: false,
        noEmit: true,
      },
      files: ["worker.ts", "node-check.ts", ...guideFiles],
    };
    assert.ok(guideFiles.length >= 2, "the guides' ts blocks were not found");
    const file = `tsconfig.${resolution}.json`;
    writeFileSync(path.join(consumer, file), JSON.stringify(tsconfig));
    try {
      run(process.execPath, [tsc, "-p", file], consumer);
    } catch (error) {
      assert.fail(`tsc (${resolution}) failed:\n${error.stdout}${error.stderr}`);
    }
  });
}

async function signedToken() {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  const token = await new SignJWT({ roles: ["admin"], permissions: ["users:read"] })
    .setProtectedHeader({ alg: "ES256", kid: "k1", typ: "at+jwt" })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject("usr_consumer")
    .setJti("jti-1")
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(privateKey);
  return { token, jwks: JSON.stringify({ keys: [jwk] }) };
}

test("the consumer Worker verifies a token in workerd", async () => {
  const { token, jwks } = await signedToken();
  // wrangler bundles the consumer as it would for `wrangler deploy` (resolving
  // edgelock/verify from the consumer's node_modules) and runs it in workerd.
  writeFileSync(
    path.join(consumer, "wrangler.json"),
    JSON.stringify({
      name: "consumer",
      main: "worker.ts",
      compatibility_date: "2026-10-01",
      vars: { ISSUER, AUDIENCE },
    }),
  );
  const worker = await unstable_dev(path.join(consumer, "worker.ts"), {
    config: path.join(consumer, "wrangler.json"),
    vars: { JWKS: jwks },
    logLevel: "none",
    experimental: { disableExperimentalWarning: true, testMode: true },
  });
  const mf = { dispatchFetch: (url, init) => worker.fetch(url, init), dispose: () => worker.stop() };
  try {
    const me = await mf.dispatchFetch("http://api.test/api/me", { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(me.status, 200);
    assert.deepEqual(await me.json(), { sub: "usr_consumer", wrong: "string" });
    const admin = await mf.dispatchFetch("http://api.test/api/admin", {
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(admin.status, 200);
    const anonymous = await mf.dispatchFetch("http://api.test/api/me");
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get("WWW-Authenticate") ?? "", /^Bearer realm="api"/);
    await anonymous.arrayBuffer();
  } finally {
    await mf.dispose();
  }
});

test("the package runs from Node by its package name", async () => {
  const { token, jwks } = await signedToken();
  const out = path.join(consumer, "out");
  run(
    process.execPath,
    [
      tsc,
      "--module",
      "NodeNext",
      "--moduleResolution",
      "nodenext",
      "--target",
      "ES2022",
      "--skipLibCheck",
      "--types",
      path.join(root, "node_modules", "@cloudflare", "workers-types"),
      "--outDir",
      out,
      "node-check.ts",
    ],
    consumer,
  );
  const result = JSON.parse(run(process.execPath, [path.join(out, "node-check.js"), token, jwks], consumer));
  assert.deepEqual(result, { sub: "usr_consumer", refused: "invalid_token" });
});
