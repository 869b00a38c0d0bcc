/**
 * The package as users receive it: `npm pack`, installed into a fresh project beside
 * `typescript`, must type-check a workflow under a strict `tsconfig.json` (`module: nodenext`,
 * `skipLibCheck: false`, no other packages or flags), and `npx redun run` must run it.
 *
 * The tarball is packed from dist/ as built by the test runner (scripts/run-tests.mjs
 * builds before every run). Packages come from the npm registry through the local npm cache
 * (`--prefer-offline`). Install scripts are skipped: the SQLite driver's native addon is
 * copied from this checkout when the versions match (compiling it takes minutes), and
 * rebuilt otherwise.
 */
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { REPO } from "./helpers/cli.ts";

const npmVersion = spawnSync("npm", ["--version"], { encoding: "utf8" });
const noNpm =
  npmVersion.status === 0
    ? false
    : `npm is not available (${npmVersion.error?.message ?? "exit " + npmVersion.status})`;

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, REDUN_CONFIG: "", npm_config_update_notifier: "false" },
    timeout: 300_000,
  });
}

function output(result: SpawnSyncReturns<string>): string {
  return `exit ${result.status}\n${result.stdout}\n${result.stderr}`;
}

function packageVersion(dir: string): string {
  return JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version;
}

const WORKFLOW = `import { File, Scheduler, namespace, script, type Task } from "redun";

const { task } = namespace("consumer");

export const add = task(function add(a: number, b: number): number {
  return a + b;
});

export const main = task(async function main(x: number, y = 2) {
  return add(add(x, y), 3);
});

export const shout = task(function shout(text: string) {
  return script(\`echo \${text} | tr a-z A-Z > out.txt\`, {
    outputs: new File("out.txt").stage("out.txt"),
    tempDir: true,
  });
});

export async function fromCode(): Promise<number> {
  const total: number = await new Scheduler().run(add(1, 2));
  // @ts-expect-error -- a string is not a number: the types are real, not \`any\`.
  add("1", 2);
  const t: Task = add;
  return total + t.paramNames.length;
}
`;

/**
 * A tool beside the workflow: the subpaths type-check with their own types (a query of
 * the provenance database, an executor registered by type name, a filesystem), and a
 * task option contributed by an executor (AWS Batch's `queue`) is known to the root type.
 */
const TOOLS = `import { task } from "redun";
import { listExecutions, type ExecutionInfo } from "redun/backend";
import { registerExecutorType, type Executor, type JobSpec } from "redun/executors";
import { getFileSystem, type FileSystem } from "redun/files";

export async function recent(db: Parameters<typeof listExecutions>[0]): Promise<string[]> {
  const executions: ExecutionInfo[] = await listExecutions(db, {});
  return executions.map((e) => e.id);
}

class Echo implements Executor {
  constructor(readonly name: string) {}
  async submit(job: JobSpec): Promise<unknown> {
    return job.args[0];
  }
  async stop(): Promise<void> {}
}
registerExecutorType("echo", (name) => new Echo(name));

export const local: FileSystem = getFileSystem("file:///tmp");
export const batch = task({ queue: "big", memory: 4 }, function batch(x: number): number {
  return x;
});
// @ts-expect-error -- an option no executor declares is a type error.
task({ qeue: "big" }, function typo(x: number): number {
  return x;
});
`;

const TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "nodenext",
    moduleResolution: "nodenext",
    strict: true,
    skipLibCheck: false,
    noEmit: true,
  },
  include: ["*.ts"],
};

describe("the packed package in a user's project", { skip: noNpm }, () => {
  let dir: string;
  let tarball: string;

  before(() => {
    assert.ok(
      fs.existsSync(path.join(REPO, "dist", "index.js")),
      "dist/ is missing: run `npm run build` (the test runner builds it)",
    );
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "redun-consumer-")));
    const packed = run("npm", ["pack", "--ignore-scripts", "--pack-destination", dir], REPO);
    assert.equal(packed.status, 0, output(packed));
    tarball = path.join(dir, packed.stdout.trim().split("\n").pop()!);
    const project = path.join(dir, "project");
    fs.mkdirSync(project);
    fs.writeFileSync(
      path.join(project, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    fs.writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2));
    fs.writeFileSync(path.join(project, "workflow.ts"), WORKFLOW);
    fs.writeFileSync(path.join(project, "tools.ts"), TOOLS);
    fs.mkdirSync(path.join(project, ".redun"));
    fs.writeFileSync(
      path.join(project, ".redun", "redun.ini"),
      "[backend]\ndb_uri = sqlite:///redun.db\n",
    );
    const typescript = packageVersion(path.join(REPO, "node_modules", "typescript"));
    const installed = run(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        tarball,
        `typescript@${typescript}`,
      ],
      project,
    );
    assert.equal(installed.status, 0, output(installed));
    const ours = path.join(REPO, "node_modules", "better-sqlite3");
    const theirs = path.join(project, "node_modules", "better-sqlite3");
    if (packageVersion(ours) === packageVersion(theirs)) {
      fs.cpSync(
        path.join(ours, "build", "Release", "better_sqlite3.node"),
        path.join(theirs, "build", "Release", "better_sqlite3.node"),
      );
    } else {
      const rebuilt = run("npm", ["rebuild", "better-sqlite3"], project);
      assert.equal(rebuilt.status, 0, output(rebuilt));
    }
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("ships compiled JavaScript and declarations, not the TypeScript sources", () => {
    const listed = run("tar", ["tzf", tarball], dir);
    assert.equal(listed.status, 0, output(listed));
    const files = listed.stdout.trim().split("\n");
    assert.ok(files.includes("package/dist/index.js"), files.join("\n"));
    assert.ok(files.includes("package/dist/index.d.ts"));
    assert.ok(files.includes("package/dist/executors/local/worker-bootstrap.mjs"));
    assert.deepEqual(
      files.filter((f) => f.startsWith("package/src/") || f.endsWith(".tsbuildinfo")),
      [],
    );
  });

  test("a strict tsc --noEmit (module nodenext, skipLibCheck false) passes, subpaths included", () => {
    const project = path.join(dir, "project");
    const checked = run(
      process.execPath,
      [path.join(project, "node_modules", "typescript", "bin", "tsc"), "-p", "."],
      project,
    );
    assert.equal(checked.status, 0, output(checked));
  });

  test("npx redun run runs the workflow, then replays it from the cache", () => {
    const project = path.join(dir, "project");
    const config = ["--config", path.join(project, ".redun")];
    const first = run(
      "npx",
      ["--no-install", "redun", ...config, "run", "workflow.ts", "main", "--x", "1"],
      project,
    );
    assert.equal(first.status, 0, output(first));
    assert.equal(first.stdout.trim(), "6");
    const again = run(
      "npx",
      ["--no-install", "redun", ...config, "run", "workflow.ts", "main", "--x", "1"],
      project,
    );
    assert.equal(again.status, 0, output(again));
    assert.match(again.stderr, /consumer\.main\s+0\s+0\s+0\s+1\s+0\s+1/);
    const shout = run(
      "npx",
      ["--no-install", "redun", ...config, "run", "workflow.ts", "shout", "--text", "hi"],
      project,
    );
    assert.equal(shout.status, 0, output(shout));
    assert.equal(fs.readFileSync(path.join(project, "out.txt"), "utf8"), "HI\n");
  });
});
