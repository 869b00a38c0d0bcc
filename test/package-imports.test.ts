/**
 * What `import "redun"` loads: in a fresh process, through the compiled package (dist/, built
 * by the test runner) installed in a project, with a module hook recording every module
 * loaded. No SDK, database driver, archiver or compiler loads until used; the built-in
 * executor types are registered as loaders, and a type loads when a configuration names it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { makeProject, REPO } from "./helpers/cli.ts";

/** Records every module loaded (its URL, one `LOADED url` line on stderr). */
const HOOK = `
import { register } from "node:module";
register("data:text/javascript," + encodeURIComponent(\`
export async function load(url, context, next) {
  process.stderr.write("LOADED " + url + "\\\\n");
  return next(url, context);
}
\`));
`;

/** Packages that must not load with the package: SDKs, drivers, tar, the compiler. */
const HEAVY = /\/node_modules\/(@aws-sdk\/[^/]+|pg|better-sqlite3|tar|typescript)\//;
/** Executor modules that must load only with their type. */
const EXECUTOR_MODULES = /\/dist\/executors\/(aws-batch|docker|remote|aws-glue|kubernetes)\//;

const REGISTRY = pathToFileURL(path.join(REPO, "dist", "executors", "executor.js")).href;

interface Outcome {
  /** URLs of the modules loaded (every thread). */
  loaded: string[];
  /** What the script printed as JSON on its last stdout line. */
  result: Record<string, unknown>;
}

let project: string;

/**
 * Runs `body` (an async module body, with `redun` and the executor registry `registry`
 * imported) in a fresh node process in the project, recording the modules it loads.
 */
function inChild(body: string): Outcome {
  const script = `
import * as redun from "redun";
const registry = await import(${JSON.stringify(REGISTRY)});
const loadedTypes = () => ["local", "alias", "docker", "aws_batch", "aws_glue", "k8s"].filter(
  (type) => registry.executorFactory(type) !== undefined,
);
const result = await (async () => { ${body} })();
console.log(JSON.stringify(result));
`;
  // A file, not -e: tasks are found by their module's path.
  fs.writeFileSync(path.join(project, "main.mjs"), script);
  const child = spawnSync(process.execPath, ["--import", "./hook.mjs", "main.mjs"], {
    cwd: project,
    encoding: "utf8",
    env: { ...process.env, REDUN_CONFIG: "", NODE_OPTIONS: "" },
    timeout: 120_000,
  });
  assert.equal(child.status, 0, `exit ${child.status}\n${child.stdout}\n${child.stderr}`);
  const loaded = child.stderr
    .split("\n")
    .filter((line) => line.startsWith("LOADED "))
    .map((line) => line.slice("LOADED ".length));
  const lines = child.stdout.trim().split("\n");
  return { loaded, result: JSON.parse(lines[lines.length - 1]!) as Record<string, unknown> };
}

/**
 * The URLs loaded, each bundled file of dist/ followed by the modules it holds (from
 * dist/.bundle.json, written by scripts/build.mjs): a source `src/DIR/NAME.ts` as
 * `…/dist/DIR/NAME.js`, a package bundled in as `…/node_modules/NAME/`. Loading a bundled
 * file runs all the modules in it, so the checks below look at those.
 */
function withBundled(loaded: string[]): string[] {
  const bundle = JSON.parse(
    fs.readFileSync(path.join(REPO, "dist", ".bundle.json"), "utf8"),
  ) as Record<string, string[]>;
  const distUrl = pathToFileURL(path.join(REPO, "dist")).href + "/";
  return loaded.flatMap((url) => {
    const inputs = url.startsWith(distUrl) ? bundle[url.slice(distUrl.length)] : undefined;
    return [
      url,
      ...(inputs ?? []).map((input) =>
        input.startsWith("src/")
          ? distUrl + input.slice("src/".length).replace(/\.[mc]?ts$/, ".js")
          : pathToFileURL(path.join(REPO, "node_modules", input)).href + "/",
      ),
    ];
  });
}

function matching(loaded: string[], pattern: RegExp): string[] {
  return withBundled(loaded)
    .filter((url) => pattern.test(url))
    .map((url) => url.replace(/^.*\/(dist|node_modules)\//, "$1/"));
}

/** A workflow of one task, run inline by the default executor on an in-memory backend. */
const RUN_ONE_TASK = `
const add = redun.task(function add(a, b) { return a + b; }, { namespace: "imports" });
const scheduler = new redun.Scheduler({
  log: () => {},
  executorConfigs: { default: { type: "local", options: { mode: "inline" } }, ...configs },
});
try {
  return { value: await scheduler.run(add(1, 2)), types: loadedTypes() };
} catch (error) {
  return { error: error.message, types: loadedTypes() };
} finally {
  await scheduler.close();
}
`;

describe("import 'redun' loads no executor, SDK or driver until used", () => {
  before(() => {
    assert.ok(
      fs.existsSync(path.join(REPO, "dist", "index.js")),
      "dist/ is missing: run `npm run build` (the test runner builds it)",
    );
    project = makeProject({
      "package.json": JSON.stringify({ name: "imports", private: true, type: "module" }),
      "hook.mjs": HOOK,
    });
  });

  after(() => {
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  test("redun --help loads no SDK, driver, web server, progress display or executor", () => {
    const child = spawnSync(
      process.execPath,
      ["--import", "./hook.mjs", path.join(REPO, "bin", "redun.mjs"), "--help"],
      {
        cwd: project,
        encoding: "utf8",
        env: { ...process.env, REDUN_CONFIG: "", NODE_OPTIONS: "" },
        timeout: 120_000,
      },
    );
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /Usage: redun/);
    const loaded = child.stderr
      .split("\n")
      .filter((line) => line.startsWith("LOADED "))
      .map((line) => line.slice("LOADED ".length));
    assert.ok(
      loaded.some((url) => url.endsWith("/dist/cli/main.js")),
      "the command line loaded",
    );
    // The command line is bundled with the package's index, whose error classes include those
    // of the local executor's limits (no executor code).
    const unwanted =
      /\/node_modules\/(hono|@hono\/[^/]+|@dagrejs\/[^/]+|log-update|@kubernetes\/[^/]+|playwright-core)\/|\/dist\/(server|executors\/(?!local\/limit-errors\.js$)[^/]+)\//;
    assert.deepEqual(matching(loaded, HEAVY), []);
    assert.deepEqual(matching(loaded, unwanted), []);
  });

  test("the compiled package's classes keep their names (errors and values are known by them)", () => {
    const { result } = inChild(`
const entries = [redun, await import("redun/backend"), await import("redun/executors"), await import("redun/files")];
const renamed = [];
for (const entry of entries)
  for (const [name, value] of Object.entries(entry))
    if (typeof value === "function" && /^class\\b/.test(Function.prototype.toString.call(value)) && value.name !== name)
      renamed.push(name + " is named " + value.name);
return { renamed, file: new redun.File("x.txt").constructor.name };`);
    assert.deepEqual(result.renamed, []);
    assert.equal(result.file, "File");
  });

  test("importing the package loads no SDK, driver, tar or compiler, and no executor type", () => {
    const { loaded, result } = inChild(`return { types: loadedTypes() };`);
    assert.ok(
      loaded.some((url) => url.endsWith("/dist/index.js")),
      "the hook records modules",
    );
    assert.deepEqual(matching(loaded, HEAVY), []);
    assert.deepEqual(result.types, [], "no executor type is registered before one is named");
  });

  test("executor task options are checked without loading any executor type", () => {
    const { result } = inChild(`
const refused = (options) => {
  try {
    redun.task(options, function f() {});
    return "accepted";
  } catch (error) {
    return error.message;
  }
};
return {
  ok: refused({ queue: "q", memory: 2, workers: 3, k8sLabels: { a: "b" }, role: null }),
  badQueue: refused({ queue: 3 }),
  badGpus: refused({ gpus: 1.5 }),
  typo: refused({ memroy: 4 }),
  types: loadedTypes(),
};`);
    assert.equal(result.ok, "accepted");
    assert.match(
      String(result.badQueue),
      /: invalid value 3 for option "queue" \(expected a string\)$/,
    );
    assert.match(
      String(result.badGpus),
      /: invalid value 1\.5 for option "gpus" \(expected a whole number, 0 or more\)$/,
    );
    assert.match(String(result.typo), /: unknown option "memroy" \(did you mean "memory"\?\)$/);
    assert.deepEqual(result.types, []);
  });

  test("importing the package loads no executor module", () => {
    const { loaded } = inChild(`return {};`);
    assert.deepEqual(matching(loaded, EXECUTOR_MODULES), []);
  });

  test("a one-task workflow on the local executor loads only the local type", () => {
    const { loaded, result } = inChild(`const configs = {};\n${RUN_ONE_TASK}`);
    assert.equal(result.value, 3, JSON.stringify(result));
    assert.deepEqual(result.types, ["local"]);
    assert.deepEqual(
      matching(loaded, /\/node_modules\/(@aws-sdk\/[^/]+|pg|tar)\//),
      [],
      "no AWS SDK, PostgreSQL driver or tar",
    );
    assert.deepEqual(matching(loaded, /\/dist\/executors\/(aws-glue|kubernetes)\//), []);
  });

  test("a cached run on a SQLite file loads no Kysely; making the database does", () => {
    const database = path.join(project, "kysely-check.db");
    // Kysely is loaded by require() (dist/vendor/kysely.cjs): the require cache says.
    const runOnce = `
const add = redun.task(function add(a, b) { return a + b; }, { namespace: "imports" });
const scheduler = new redun.Scheduler({
  log: () => {},
  backendOptions: { sqlitePath: ${JSON.stringify(database)}, automigrate: true },
  executorConfigs: { default: { type: "local", options: { mode: "inline" } } },
});
const value = await scheduler.run(add(1, 2));
await scheduler.close();
const { createRequire } = await import("node:module");
const kysely = Object.keys(createRequire(import.meta.url).cache).some((file) =>
  file.endsWith(${JSON.stringify(path.join("dist", "vendor", "kysely.cjs"))}),
);
return { value, cached: scheduler.status.totals().CACHED, kysely };
`;
    const first = inChild(runOnce).result;
    assert.deepEqual(first, { value: 3, cached: 0, kysely: true }, "a new database is migrated");
    const again = inChild(runOnce).result;
    assert.deepEqual(again, { value: 3, cached: 1, kysely: false });
  });

  test("a configuration naming type = docker loads the docker type (and no AWS SDK)", () => {
    const { loaded, result } = inChild(
      `const configs = { d: { type: "docker", options: { image: "img", scratch: "/tmp/s" } } };\n${RUN_ONE_TASK}`,
    );
    assert.equal(result.value, 3, JSON.stringify(result));
    assert.deepEqual(result.types, ["local", "docker"]);
    assert.ok(
      loaded.some((url) => url.endsWith("/dist/executors/docker/docker-schema.js")),
      "the docker schema loads with its type",
    );
    assert.deepEqual(matching(loaded, /\/node_modules\/@aws-sdk\//), []);
  });

  test("a type loaded on demand still checks its section: one clear error", () => {
    const { result } = inChild(
      `const configs = { d: { type: "docker", options: { image: "img", scratch: "/s", colour: "x" } }, b: { type: "aws_batch", options: { image: "i" } } };\n${RUN_ONE_TASK}`,
    );
    assert.match(String(result.error), /^\[executors\.b\]: the option "queue" is required$/);
    assert.deepEqual(result.types, ["local", "docker", "aws_batch"]);
  });

  test("[DEFAULT] keys reach a type loaded after the configuration was read", () => {
    const ini = [
      "[DEFAULT]",
      "vcpus = 3",
      "unrelated = x",
      "[executors.default]",
      "type = local",
      "mode = inline",
      "[executors.d]",
      "type = docker",
      "image = img",
      "scratch = scratch",
    ].join("\n");
    const { result } = inChild(`
const fs = await import("node:fs");
fs.mkdirSync(".redun", { recursive: true });
fs.writeFileSync(".redun/redun.ini", ${JSON.stringify(ini)});
const add = redun.task(function add(a, b) { return a + b; }, { namespace: "imports" });
const scheduler = new redun.Scheduler({ config: redun.loadConfig({ configDir: ".redun" }), log: () => {} });
try {
  const value = await scheduler.run(add(1, 2));
  const { vcpus, scratch } = scheduler.getExecutor("d").options;
  return { value, vcpus, scratch, cwd: process.cwd(), types: loadedTypes() };
} finally {
  await scheduler.close();
}`);
    assert.equal(result.value, 3, JSON.stringify(result));
    assert.equal(result.vcpus, 3, "the DEFAULT vcpus reached the docker executor");
    assert.equal(result.scratch, path.join(String(result.cwd), ".redun", "scratch"));
    assert.deepEqual(result.types, ["local", "docker"]);
  });

  test("a k8s executor is created without loading its client library", () => {
    const { loaded, result } = inChild(`
const configs = {
  default: { type: "local", options: { mode: "inline" } },
  k: { type: "k8s", options: { image: "i", scratch: "s3://b/" } },
};
const add = redun.task(function add(a, b) { return a + b; }, { namespace: "imports" });
const scheduler = new redun.Scheduler({ log: () => {}, executorConfigs: configs });
try {
  const value = await scheduler.run(add(1, 2));
  const executor = scheduler.getExecutor("k");
  return { value, name: executor.name, types: loadedTypes() };
} finally {
  await scheduler.close();
}`);
    assert.equal(result.value, 3, JSON.stringify(result));
    assert.equal(result.name, "k");
    assert.deepEqual(result.types, ["local", "k8s"]);
    assert.deepEqual(matching(loaded, /\/node_modules\/@kubernetes\//), []);
  });
});
