/**
 * What a Glue job needs besides the code package, stored once per content hash under
 * `SCRATCH/glue/`:
 *
 * - the launcher script (`launcher-HASH.py`, ./launcher-script.ts);
 * - the Node runtime (`node-HASH.tar.gz`): the `node_runtime` option (an `s3://` URI used as
 *   it is, or a local tarball uploaded), or by default the scheduler's own Node binary
 *   (`node-HASH`, the bare executable), which suits Glue 5.0 (Amazon Linux 2023) when the
 *   scheduler runs on Linux x64;
 * - the redun runtime (`redun-HASH.tar.gz`): redun's modules bundled with esbuild (one file
 *   per package entry, shared chunks, every JavaScript dependency inside) as the package
 *   `node_modules/redun`, with its `glue-oneshot.js` entry, and tsx with esbuild's Linux x64
 *   binary (a static executable) to load TypeScript. No native Node modules: SQLite and
 *   PostgreSQL drivers are left out (oneshot records nothing).
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { tarFiles } from "../remote/code-package.ts";
import { scratchFileExists, scratchJoin, writeScratchFile } from "../remote/scratch.ts";
import { LAUNCHER_SOURCE, launcherHash } from "./launcher-script.ts";
import { CODE_DIR, COMPILED } from "../../values/package-root.ts";

/** The package entries bundled into the runtime (what a workflow may import). */
const PACKAGE_ENTRIES = ["redun", "redun/executors", "redun/files", "redun/backend"] as const;

/** Modules left out of the bundle: native drivers (never used by oneshot) and tsx (shipped). */
const EXTERNAL = ["better-sqlite3", "pg", "pg-native", "pg-cloudflare", "tsx", "esbuild"];

/** Packages redun requires lazily (code packages, TypeScript source analysis). */
const REQUIRED_AT_RUN_TIME = ["tar", "typescript"];

const requireHere = createRequire(import.meta.url);

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Uploads `bytes` to `target` unless an object is already there (names hold content hashes). */
async function uploadOnce(target: string, bytes: () => Uint8Array | string): Promise<string> {
  if (!(await scratchFileExists(target))) await writeScratchFile(target, bytes());
  return target;
}

/** Stores the launcher script; returns its URI. */
export function uploadLauncher(scratch: string): Promise<string> {
  return uploadOnce(
    scratchJoin(scratch, "glue", `launcher-${launcherHash()}.py`),
    () => LAUNCHER_SOURCE,
  );
}

/**
 * The Node runtime's URI: `node_runtime` as given (s3://), uploaded (a local tarball), or the
 * scheduler's own binary packed as `bin/node`.
 * @throws Error naming the option when there is no usable runtime.
 */
export async function uploadNodeRuntime(
  scratch: string,
  option: string | undefined,
  where: string,
  configDir?: string,
): Promise<string> {
  if (option && /^s3:\/\//.test(option)) return option;
  if (option) {
    const file = path.resolve(configDir ?? process.cwd(), option);
    if (!fs.existsSync(file)) throw new Error(`${where}: node_runtime ${file} does not exist`);
    const bytes = fs.readFileSync(file);
    const ext = /\.tar\.xz$/.test(file) ? ".tar.xz" : /\.tar$/.test(file) ? ".tar" : ".tar.gz";
    return uploadOnce(
      scratchJoin(scratch, "glue", `node-${sha256(bytes).slice(0, 16)}${ext}`),
      () => bytes,
    );
  }
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(
      `${where}: Glue workers run Linux x64; this scheduler's Node is ${process.platform}-${process.arch}: ` +
        "set node_runtime to a Linux x64 Node tarball (e.g. node-v20.x-linux-x64.tar.gz)",
    );
  }
  // The binary itself, not a tarball: packing 100 MB would cost more than it saves.
  const binary = fs.readFileSync(process.execPath);
  return uploadOnce(
    scratchJoin(scratch, "glue", `node-${sha256(binary).slice(0, 16)}`),
    () => binary,
  );
}

/** The folder of an installed package (found from its package.json). */
function packageDir(name: string, from = requireHere): string {
  return path.dirname(from.resolve(`${name}/package.json`));
}

/** Every file under `dir`, relative, `/`-separated. */
function filesUnder(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...filesUnder(path.join(dir, entry.name), rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

/** Copies a package's files into `into/node_modules/NAME` (leaving `skip` out). */
function copyPackage(name: string, into: string, from: NodeRequire, skip: RegExp[] = []): void {
  const src = packageDir(name, from);
  const dest = path.join(into, "node_modules", name);
  for (const rel of filesUnder(src)) {
    if (rel.startsWith("node_modules/") || skip.some((re) => re.test(rel))) continue;
    const to = path.join(dest, rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(path.join(src, rel), to);
    fs.chmodSync(to, fs.statSync(path.join(src, rel)).mode & 0o777);
  }
}

/** This module's sibling `glue-oneshot-main` (compiled `.js`, or `.ts` run from the sources). */
function oneshotEntry(): string {
  return path.join(
    CODE_DIR,
    "executors",
    "aws-glue",
    `glue-oneshot-main${COMPILED ? ".js" : ".ts"}`,
  );
}

/** Builds the redun runtime's files in a temporary folder; returns the folder. */
async function buildRuntimeDir(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redun-glue-runtime-"));
  const pkgDir = path.join(dir, "node_modules", "redun");
  // esbuild comes with tsx (a dependency): found from tsx's folder, wherever npm put it.
  const tsxRequire = createRequire(packageDir("tsx") + "/package.json");
  const esbuildMain = pathToFileURL(tsxRequire.resolve("esbuild")).href;
  const { build } = (await import(esbuildMain)) as typeof import("esbuild");
  const entryPoints: Record<string, string> = { "glue-oneshot": oneshotEntry() };
  for (const specifier of PACKAGE_ENTRIES) {
    const name = specifier === "redun" ? "index" : specifier.slice("redun/".length) + "/index";
    entryPoints[name] = fileURLToPath(import.meta.resolve(specifier));
  }
  await build({
    entryPoints,
    outdir: pkgDir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external: EXTERNAL,
    logLevel: "silent",
    // ES module builds of dependencies (the AWS SDK's CommonJS build lost its named exports).
    mainFields: ["module", "main"],
    // Bundled CommonJS dependencies call require(): give them one.
    banner: {
      js: 'import { createRequire as __redunCreateRequire } from "node:module"; const require = __redunCreateRequire(import.meta.url);',
    },
    chunkNames: "chunks/[hash]",
  });
  // Packages redun loads with require() at run time (not seen by the bundler): each bundled
  // into one CommonJS file of its own name, found from the chunks like any package.
  for (const name of REQUIRED_AT_RUN_TIME) {
    const to = path.join(dir, "node_modules", name);
    await build({
      entryPoints: [requireHere.resolve(name)],
      outfile: path.join(to, "index.js"),
      bundle: true,
      format: "cjs",
      platform: "node",
      target: "node20",
      logLevel: "silent",
    });
    fs.writeFileSync(path.join(to, "package.json"), JSON.stringify({ name, main: "index.js" }));
  }
  const exports: Record<string, string> = {};
  for (const specifier of PACKAGE_ENTRIES) {
    const sub = specifier === "redun" ? "." : `./${specifier.slice("redun/".length)}`;
    const file = sub === "." ? "./index.js" : `${sub}/index.js`;
    exports[sub] = file;
  }
  fs.writeFileSync(
    path.join(pkgDir, "package.json"),
    JSON.stringify({ name: "redun", type: "module", exports }, null, 2),
  );
  // Workflow files in the code package are ES modules (unless their package.json says not).
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
  copyPackage("tsx", dir, requireHere);
  copyPackage("esbuild", dir, tsxRequire, [/^bin\//, /^install\.js$/]);
  const esbuildRequire = createRequire(packageDir("esbuild", tsxRequire) + "/package.json");
  copyPackage("@esbuild/linux-x64", dir, esbuildRequire);
  return dir;
}

/**
 * Builds the redun runtime tarball (reproducible: same modules, same bytes) and stores it;
 * returns its URI.
 */
export async function uploadRedunRuntime(scratch: string): Promise<string> {
  const dir = await buildRuntimeDir();
  try {
    const bytes = tarFiles(dir, filesUnder(dir).sort());
    const target = scratchJoin(scratch, "glue", `redun-${sha256(bytes).slice(0, 16)}.tar.gz`);
    return await uploadOnce(target, () => bytes);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
