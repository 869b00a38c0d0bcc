// Builds dist/ from src/ in two steps:
//
// 1. tsc type-checks src/ and writes the .d.ts files (the package's `exports` "types"
//    conditions point at them); a type error fails the build unless --allow-type-errors.
// 2. esbuild bundles the JavaScript (ESM, platform node, target node20) with code splitting.
//    Entry points: the public ones (index, backend/index, executors/index, files/index),
//    cli/main (bin/redun.mjs), the worker entries and every module that src/ imports with a
//    literal `import("./…")` (executor types, commands, the web server…), so each keeps a
//    file at its own path (dist/DIR/NAME.js) and loads only when used. Their code goes to
//    dist/chunks/, the core (see CORE below) into two chunks. A start loads a dozen files
//    instead of ~134 modules: on Node 22/24 about half of a start went into resolving,
//    loading and linking them. commander (CommonJS, otherwise lexed at every start) is
//    bundled in; Kysely (~980 ES modules) goes into a CommonJS file of its own,
//    dist/vendor/kysely.cjs, loaded on first use; every other package stays external
//    (native addons, SDKs, tsx, typescript…).
//    The hand-written .mjs files (module hooks, worker bootstraps) are copied as they are:
//    their own relative URLs must hold, so bundled code reaches them by URL (codeUrl() in
//    src/values/package-root.ts, which also tells redun's own stack frames from a workflow's).
//
// dist/.bundle.json (not shipped) lists the source modules in each bundled file, for
// test/package-imports.test.ts. esbuild comes with tsx (a dependency).
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
const result = spawnSync(
  process.execPath,
  [tsc, "-p", path.join(root, "tsconfig.build.json"), "--emitDeclarationOnly"],
  {
    cwd: root,
    stdio: "inherit",
  },
);
if (result.status !== 0 && !(allowTypeErrors && result.status === 2)) {
  // Exit code 2: type errors, .d.ts files emitted anyway. Anything else: nothing usable.
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
  const match = /^(.*?)(\.d\.ts|\.mjs)$/.exec(file);
  if (!match || fs.statSync(path.join(dist, file)).isDirectory()) continue;
  const stem = match[1];
  const origin = match[2] === ".mjs" ? [`${stem}.mjs`] : [`${stem}.ts`, `${stem}.mts`];
  if (!origin.some((o) => sources.has(o))) fs.rmSync(path.join(dist, file));
}

// The bundle: rewritten whole each time (esbuild takes well under a second).
for (const file of fs.readdirSync(dist, { recursive: true }).map(String)) {
  if (/\.js(\.map)?$/.test(file)) fs.rmSync(path.join(dist, file));
}
fs.rmSync(path.join(dist, "chunks"), { recursive: true, force: true });
fs.rmSync(path.join(dist, "vendor"), { recursive: true, force: true });

const ENTRIES = [
  "index.ts",
  "backend/index.ts",
  "executors/index.ts",
  "files/index.ts",
  "cli/main.ts",
  "executors/local/worker-main.ts",
  "backend/sqlite-write-worker.ts",
  "executors/aws-glue/glue-oneshot-main.ts",
];
const entries = new Set(ENTRIES.map((f) => path.join(src, f)));
for (const file of sources) {
  if (!file.endsWith(".ts") || file.endsWith(".d.ts")) continue;
  const text = fs.readFileSync(path.join(src, file), "utf8");
  for (const [, target] of text.matchAll(/\bimport\(\s*"(\.\.?\/[^"]+\.ts)"\s*\)/g)) {
    entries.add(path.resolve(src, path.dirname(file), target));
  }
}
/**
 * The core: what a start needs (the package's index, the command line and `redun run`) and
 * all they import statically; executor types stay out (they load when a configuration names
 * one). esbuild puts code into one chunk per set of entries that reach it, and the entries
 * reach different parts of the core: built as they are, the core would be split into some 60
 * chunks. So each entry is built from a small virtual module, "entry:FILE" (an import of the
 * whole core, and FILE's exports), and a literal `import()` of a local module loads that
 * entry: every entry reaches all of the core, which makes two chunks (the part the SQLite
 * writer thread loads, whose entry alone goes without the core, and the rest). The core's
 * modules run when any entry loads (no module of src/ has an effect beyond registering
 * things); the modules of lazy entries still run only when imported.
 */
const CORES = {
  // The library: what `import "redun"` loads, so also every entry.
  "redun-core": ["index.ts"],
  // The command line and `redun run`: loaded by the command-line entries only, so that a
  // program importing the library (through tsx, say) parses none of it.
  "redun-cli-core": ["cli/main.ts", "cli/run.ts"],
};
const CLI_DIR = path.join(src, "cli") + path.sep;
const WITHOUT_CORE = new Set([path.join(src, "backend/sqlite-write-worker.ts")]);
const coreEntries = {
  name: "core",
  setup(build) {
    build.onResolve({ filter: /^redun-(cli-)?core$/ }, (args) => ({
      path: args.path,
      namespace: "core",
    }));
    build.onLoad({ filter: /.*/, namespace: "core" }, (args) => ({
      contents: CORES[args.path]
        .map((f) => `import ${JSON.stringify(path.join(src, f))};`)
        .join("\n"),
      resolveDir: src,
      loader: "js",
    }));
    build.onResolve({ filter: /^entry:/ }, (args) => ({
      path: args.path.slice("entry:".length),
      namespace: "entry",
    }));
    build.onResolve({ filter: /^\.\.?\/.*\.ts$/ }, (args) => {
      if (args.kind !== "dynamic-import") return undefined;
      const file = path.resolve(args.resolveDir, args.path);
      return entries.has(file) ? { path: file, namespace: "entry" } : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: "entry" }, (args) => ({
      contents:
        `import "redun-core";\n${args.path.startsWith(CLI_DIR) ? 'import "redun-cli-core";\n' : ""}` +
        `export * from ${JSON.stringify(args.path)};\n`,
      resolveDir: path.dirname(args.path),
      loader: "js",
    }));
  },
};
/** Packages bundled in; every other bare import stays external. */
const BUNDLED = new Set(["commander"]);
const packageName = (specifier) =>
  specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");
const requireHere = createRequire(import.meta.url);
const esbuild = createRequire(requireHere.resolve("tsx/package.json"))("esbuild");
const bundled = await esbuild.build({
  absWorkingDir: root,
  entryPoints: [...entries].sort().map((file) => ({
    in: WITHOUT_CORE.has(file) ? file : `entry:${file}`,
    out: path.relative(src, file).replace(/\.ts$/, ""),
  })),
  outdir: dist,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // No keepNames: class names are restored below, function names matter to nothing here.
  keepNames: false,
  // commander is CommonJS: its require() of Node's modules needs a real one. (Not named as
  // in glue-runtime.ts's banner: that bundle is made from these files.)
  banner: {
    js: 'import { createRequire as __bundleCreateRequire } from "node:module"; const require = __bundleCreateRequire(import.meta.url);',
  },
  plugins: [
    coreEntries,
    {
      name: "external-packages",
      setup(build) {
        build.onResolve({ filter: /^[^./]/ }, (args) =>
          BUNDLED.has(packageName(args.path)) ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
  metafile: true,
  logLevel: "warning",
});
// Kysely, as one CommonJS file that src/backend/kysely-module.ts loads synchronously on
// first use (a database handle's `db` is a property): a cached run builds no query, and so
// loads none of it.
await esbuild.build({
  absWorkingDir: root,
  entryPoints: [fileURLToPath(import.meta.resolve("kysely"))],
  outfile: path.join(dist, "vendor", "kysely.cjs"),
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  logLevel: "warning",
});
const contents = {};
for (const [file, output] of Object.entries(bundled.metafile.outputs)) {
  // Sources as src/…, bundled packages by name; the virtual modules are left out.
  const inputs = Object.keys(output.inputs).flatMap((input) => {
    if (input.startsWith("src/")) return [input];
    const inPackage = /node_modules\/(.*)$/.exec(input);
    return inPackage ? [packageName(inPackage[1])] : [];
  });
  contents[path.relative(dist, path.join(root, file)).split(path.sep).join("/")] = [
    ...new Set(inputs),
  ].sort();
}
fs.writeFileSync(path.join(dist, ".bundle.json"), `${JSON.stringify(contents, null, 1)}\n`);

// Class names are behaviour: an error class is known by its name across threads, and a
// value's class names it in job lines. Without keepNames (which wraps every function made
// at run time in a renaming call, some 7% of a fan-out's scheduler time), esbuild names a
// class `_Foo` where it turns `class Foo` into `var Foo = class _Foo`: such classes get
// their own name back in a static block. A class renamed `Foo2` (two modules defining one
// name) is refused: rename one of them in src/.
const sourceClasses = new Set();
for (const file of sources) {
  if (!/\.m?ts$/.test(file)) continue;
  for (const [, name] of fs.readFileSync(path.join(src, file), "utf8").matchAll(/\bclass (\w+)/g))
    sourceClasses.add(name);
}
for (const file of Object.keys(bundled.metafile.outputs)) {
  const full = path.join(root, file);
  const text = fs.readFileSync(full, "utf8");
  for (const [, name, base] of text.matchAll(/\bclass ((\w+?)\d+)\b/g)) {
    if (!sourceClasses.has(name) && sourceClasses.has(base)) {
      console.error(
        `build: class ${base} is renamed ${name} in ${file} by the bundler ` +
          "(two modules define a class of that name): rename one of them in src/",
      );
      process.exit(1);
    }
  }
  const named = text.replace(
    /\bclass _(\w+)((?:\s+extends\s+[\w.$]+)?)\s*\{/g,
    (whole, name, heritage) =>
      sourceClasses.has(name)
        ? `class _${name}${heritage} {\n  static { Object.defineProperty(this, "name", { value: ${JSON.stringify(name)} }); }`
        : whole,
  );
  if (named !== text) fs.writeFileSync(full, named);
}

if (result.status !== 0) console.error("build: type errors above (dist/ written anyway)");
