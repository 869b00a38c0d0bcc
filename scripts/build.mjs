// Builds dist/ from src/: JavaScript and .d.ts with tsc (incremental; relative `.ts` imports
// rewritten to `.js`), plus the plain .mjs files (module hooks, the worker bootstrap) copied
// as they are. Files in dist/ whose source is gone are removed.
//
// Kysely is bundled into one file, dist/vendor/kysely.js, and the compiled code imports that
// instead of the package: Kysely ships some 980 ES modules, whose loading took ~0.15-0.3 s of
// every start (`redun --help` included), the bundle ~0.03 s. The .d.ts files still name the
// `kysely` package, a dependency, for its types. esbuild comes with tsx (a dependency).
//
// Usage: node scripts/build.mjs [--allow-type-errors]
// A type error fails the build unless --allow-type-errors: the test runner passes it, since
// `npm test` reports type errors itself (lint) and the tests should still run.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const src = path.join(root, "src");
const dist = path.join(root, "dist");
const allowTypeErrors = process.argv.includes("--allow-type-errors");

// One build at a time in this folder (test runs started side by side each build first).
const lock = path.join(root, ".build-lock");
for (const start = Date.now(); ;) {
  try {
    fs.mkdirSync(lock);
    break;
  } catch (error) {
    if (error.code !== "EEXIST") throw error;
    // A lock older than any build is left by a killed one.
    const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    if (age > 300_000 || Date.now() - start > 300_000) fs.rmSync(lock, { recursive: true });
    else await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
process.on("exit", () => fs.rmSync(lock, { recursive: true, force: true }));

const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
const result = spawnSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], {
  cwd: root,
  stdio: "inherit",
});
if (result.status !== 0 && !(allowTypeErrors && result.status === 2)) {
  // Exit code 2: type errors, files emitted anyway. Anything else: nothing usable.
  console.error(`build: tsc failed (exit code ${result.status ?? result.signal})`);
  process.exit(1);
}

const sources = new Set(
  fs
    .readdirSync(src, { recursive: true })
    .map(String)
    .filter((f) => !fs.statSync(path.join(src, f)).isDirectory()),
);
for (const file of sources) {
  if (!file.endsWith(".mjs")) continue;
  const to = path.join(dist, file);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(path.join(src, file), to);
}

// Outputs of deleted or renamed sources would otherwise linger and ship.
for (const file of fs.readdirSync(dist, { recursive: true }).map(String)) {
  const match = /^(.*?)(\.d\.ts|\.js|\.js\.map|\.mjs)$/.exec(file);
  if (!match || file.startsWith("vendor") || fs.statSync(path.join(dist, file)).isDirectory())
    continue;
  const stem = match[1];
  const origin = match[2] === ".mjs" ? [`${stem}.mjs`] : [`${stem}.ts`, `${stem}.mts`];
  if (!origin.some((o) => sources.has(o))) fs.rmSync(path.join(dist, file));
}

const VENDOR = path.join(dist, "vendor", "kysely.js");
const requireHere = createRequire(import.meta.url);
// Kysely exports no package.json: find its folder from its main file.
let kyselyDir = path.dirname(requireHere.resolve("kysely"));
const readPackage = (dir) => {
  const file = path.join(dir, "package.json");
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : undefined;
};
while (readPackage(kyselyDir)?.name !== "kysely") kyselyDir = path.dirname(kyselyDir);
const kyselyPackage = readPackage(kyselyDir);
const kyselyEntry = path.join(kyselyDir, kyselyPackage.exports["."].import);
const kyselyVersion = kyselyPackage.version;
const stamp = `// kysely ${kyselyVersion}, bundled by scripts/build.mjs\n`;
if (!fs.existsSync(VENDOR) || !fs.readFileSync(VENDOR, "utf8").startsWith(stamp)) {
  const esbuild = createRequire(requireHere.resolve("tsx/package.json"))("esbuild");
  esbuild.buildSync({
    entryPoints: [kyselyEntry],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    banner: { js: stamp.trimEnd() },
    outfile: VENDOR,
    logLevel: "warning",
  });
}
for (const file of fs.readdirSync(dist, { recursive: true }).map(String)) {
  if (!file.endsWith(".js") || file.startsWith("vendor")) continue;
  const full = path.join(dist, file);
  const text = fs.readFileSync(full, "utf8");
  if (!text.includes('"kysely"')) continue;
  let relative = path.relative(path.dirname(full), VENDOR).split(path.sep).join("/");
  if (!relative.startsWith(".")) relative = `./${relative}`;
  const rewritten = text
    .replace(/(\bfrom\s*)"kysely"/g, `$1"${relative}"`)
    .replace(/(\bimport\(\s*)"kysely"(\s*\))/g, `$1"${relative}"$2`);
  if (rewritten !== text) fs.writeFileSync(full, rewritten);
}

if (result.status !== 0) console.error("build: type errors above (dist/ written anyway)");
