/**
 * `redun run` end to end: a temporary project with the package linked in node_modules, a
 * real .redun/redun.ini and database, the real command in a child process. What depends on
 * the backend (caching, replay, dry runs, the rows recorded, failures) runs on SQLite and on
 * PostgreSQL; argument parsing and error messages run once, on SQLite.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { countRuns, jobTotals, makeProject, redun, taskRow, writeFile } from "./helpers/cli.ts";
import {
  backendIni,
  createTestDatabase,
  forEachDialect,
  type TestDatabase,
} from "./helpers/dialects.ts";
import { tempDir } from "./helpers/engine.ts";

const INI = `
[backend]
db_uri = sqlite:///redun.db

[scheduler]
job_status_interval = 0
ignore_warnings = namespace

[executors.default]
type = local
mode = thread
max_workers = 2

[executors.procs]
type = local
mode = process
max_workers = 2

[limits]
one = 1
`;

/** The workflow; `VARIANT` lets a test change one task's code. */
function workflow(variant = "a + b"): string {
  return `
import fs from "node:fs";
import { namespace, File, getContext } from "redun";
const { task } = namespace("demo");

function log(name: string) {
  fs.appendFileSync(process.env.RUNS_FILE ?? "runs.log", name + "\\n");
}

export const add = task(function add(a: number, b: number) {
  log("add");
  return ${variant};
});

export const square = task(function square(x: number) {
  log("square");
  return x * x;
});

export const main = task(function main(x: number, y = 2, tags: string[] = [], verbose = false) {
  log("main");
  return { sum: add(square(x), square(y)), tags, verbose };
});

export const fail = task(function fail(message: string) {
  log("fail");
  throw new Error("boom: " + message);
});

export const readSize = task(async function readSize(input: File) {
  return (await input.read()).length;
});

export const threads = task(function threads(n = getContext("tool.threads", 1)) {
  log("threads");
  return n;
});

export const mode = task(function mode(choice: "fast" | "slow" = "fast", n: bigint = 1n) {
  return choice + ":" + n;
});
`;
}

/** INI without its `[backend]` section (the dialect suites write their own). */
const SETTINGS = INI.slice(INI.indexOf("\n[scheduler]"));

forEachDialect((dialect) =>
  describe(`[${dialect}] redun run: caching, replay and what is recorded`, () => {
    let dir: string;
    let dbDir: string;
    let db: TestDatabase;
    const env = () => ({ ...db.env, RUNS_FILE: path.join(dir, "runs.log") });

    before(async () => {
      dbDir = tempDir();
      db = await createTestDatabase(dialect, dbDir);
      dir = makeProject({
        ".redun/redun.ini": backendIni(db) + SETTINGS,
        "workflow.ts": workflow(),
      });
    });
    after(async () => {
      await db.close();
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(dbDir, { recursive: true, force: true });
    });

    test("runs a task and prints its result, then replays it from the cache", () => {
      const first = redun(dir, ["run", "workflow.ts", "main", "--x", "3"], env());
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout.trim(), "{ sum: 13, tags: [], verbose: false }");
      assert.match(first.stderr, /Config dir: .*\.redun/);
      assert.deepEqual(jobTotals(first.stderr), {
        PENDING: 0,
        RUNNING: 0,
        FAILED: 0,
        CACHED: 0,
        DONE: 4,
        TOTAL: 4,
      });
      assert.equal(countRuns(dir).length, 4);

      const second = redun(dir, ["run", "workflow.ts", "main", "--x", "3"], env());
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.stdout.trim(), "{ sum: 13, tags: [], verbose: false }");
      assert.deepEqual(jobTotals(second.stderr), {
        PENDING: 0,
        RUNNING: 0,
        FAILED: 0,
        CACHED: 4,
        DONE: 0,
        TOTAL: 4,
      });
      assert.equal(countRuns(dir).length, 4, "nothing ran again");
    });

    test("records each execution: its command line, root job and tasks", async () => {
      const executions = await db.query<{ id: string; args: string; job_id: string }>(
        "select e.id, e.args, e.job_id from execution e join job j on j.id = e.job_id" +
          " order by j.start_time",
      );
      assert.equal(executions.length, 2);
      assert.deepEqual(JSON.parse(executions[0]!.args), ["run", "workflow.ts", "main", "--x", "3"]);
      assert.notEqual(executions[0]!.id, executions[1]!.id, "each run is an execution of its own");
      const roots = await db.query(
        "select status, parent_id, cached, execution_id from job where parent_id is null" +
          " order by start_time",
      );
      assert.deepEqual(
        roots.map((r) => [r.status, r.parent_id, Boolean(r.cached), r.execution_id]),
        [
          ["DONE", null, false, executions[0]!.id],
          ["CACHED", null, true, executions[1]!.id],
        ],
      );
      const tasks = (await db.query("select fullname from task order by fullname")).map(
        (r) => r.fullname,
      );
      assert.deepEqual(tasks, ["demo.add", "demo.main", "demo.square"]);
    });

    test("a changed argument reruns only the calls it reaches", () => {
      const before = countRuns(dir).length;
      const result = redun(dir, ["run", "workflow.ts", "main", "--x", "3", "--y", "5"], env());
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), "{ sum: 34, tags: [], verbose: false }");
      // square(3) is replayed; main, square(5) and add run.
      assert.deepEqual(countRuns(dir).slice(before).sort(), ["add", "main", "square"]);
    });

    test("a code change reruns the changed task and what depends on it", () => {
      writeFile(dir, "workflow.ts", workflow("a + b + 1"));
      const before = countRuns(dir).length;
      const result = redun(dir, ["run", "workflow.ts", "main", "--x", "3"], env());
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), "{ sum: 14, tags: [], verbose: false }");
      assert.deepEqual(
        countRuns(dir).slice(before),
        ["add"],
        "only add ran: main's single reduction is replayed",
      );
      assert.equal(taskRow(result.stderr, "demo.square")?.CACHED, 2);
      assert.equal(taskRow(result.stderr, "demo.add")?.DONE, 1);
      writeFile(dir, "workflow.ts", workflow());
    });

    test("--no-cache runs everything again", () => {
      const result = redun(dir, ["run", "--no-cache", "workflow.ts", "main", "--x", "3"], env());
      assert.equal(result.code, 0, result.stderr);
      assert.equal(jobTotals(result.stderr).DONE, 4);
    });

    test("--dryrun lists what would run and runs nothing", () => {
      const before = countRuns(dir).length;
      const cached = redun(dir, ["run", "--dryrun", "workflow.ts", "main", "--x", "3"], env());
      assert.equal(cached.code, 0, cached.stderr);
      assert.equal(cached.stdout.trim(), "{ sum: 13, tags: [], verbose: false }");
      const fresh = redun(dir, ["run", "--dryrun", "workflow.ts", "main", "--x", "40"], env());
      assert.equal(fresh.code, 1, "something would run: exit 1, as redun does");
      assert.match(
        fresh.stdout,
        /Dry run: 1 job\(s\) would run:\n\s+demo\.main\(40, 2, \[\], false\)  \(new args: new argument values/,
      );
      assert.equal(countRuns(dir).length, before, "a dry run runs nothing");
    });

    test("--context and --context-file reach getContext defaults; only readers rerun", () => {
      writeFile(dir, "ctx.json", JSON.stringify({ tool: { threads: 3 } }));
      const plain = redun(dir, ["run", "workflow.ts", "threads"], env());
      assert.equal(plain.stdout.trim(), "1", plain.stderr);
      const fromFile = redun(
        dir,
        ["run", "--context-file", "ctx.json", "workflow.ts", "threads"],
        env(),
      );
      assert.equal(fromFile.stdout.trim(), "3", fromFile.stderr);
      const overridden = redun(
        dir,
        [
          "run",
          "--context-file",
          "ctx.json",
          "--context",
          "tool.threads=8",
          "workflow.ts",
          "threads",
        ],
        env(),
      );
      assert.equal(overridden.stdout.trim(), "8", overridden.stderr);
      const again = redun(
        dir,
        ["run", "--context", "tool.threads=8", "workflow.ts", "threads"],
        env(),
      );
      assert.equal(again.stdout.trim(), "8");
      assert.equal(jobTotals(again.stderr).CACHED, 1, "the same context value is a cache hit");
      const unrelated = redun(
        dir,
        ["run", "--context", "tool.threads=8", "workflow.ts", "square", "--x", "3"],
        env(),
      );
      assert.equal(jobTotals(unrelated.stderr).CACHED, 1, "a task that reads no context is cached");
      const bad = redun(dir, ["run", "--context", "tool.threads", "workflow.ts", "threads"], env());
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /--context expects path=value, got "tool\.threads"/);
    });

    test("--no-prov records nothing", async () => {
      const count = async () =>
        (await db.query<{ n: number }>("select count(*) as n from job"))[0]!.n;
      const before = await count();
      const result = redun(dir, ["run", "--no-prov", "workflow.ts", "square", "--x", "11"], env());
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), "121");
      assert.equal(await count(), before);
    });

    test("a failing task exits 1 with its message, is recorded as FAILED and runs again", async () => {
      const result = redun(dir, ["run", "workflow.ts", "fail", "--message", "xyz"], env());
      assert.equal(result.code, 1);
      const shown = /task "demo\.fail" failed \(job ([0-9a-f]{8})\): Error: boom: xyz/.exec(
        result.stderr,
      );
      assert.ok(shown, result.stderr);
      assert.doesNotMatch(result.stderr, /\/src\/(scheduler|executors|values)\//);
      assert.equal(result.stdout, "");
      const failed = await db.query<{ id: string; status: string; args: string }>(
        "select j.id, j.status, e.args from job j join execution e on e.id = j.execution_id" +
          " join task t on t.hash = j.task_hash where t.fullname = ?",
        "demo.fail",
      );
      assert.deepEqual(
        failed.map((j) => [j.id.slice(0, 8), j.status, JSON.parse(j.args).at(-1)]),
        [[shown[1], "FAILED", "xyz"]],
        "the job the message names is recorded as failed",
      );

      const runs = countRuns(dir).filter((r) => r === "fail").length;
      const again = redun(dir, ["run", "workflow.ts", "fail", "--message", "xyz"], env());
      assert.equal(again.code, 1);
      assert.equal(
        countRuns(dir).filter((r) => r === "fail").length,
        runs + 1,
        "a failure is not cached: the task runs again",
      );
      assert.equal(
        (await db.query("select id from job where status = 'FAILED'")).length,
        2,
        "each failed run is recorded",
      );
    });
  }),
);

describe("redun run: arguments, options and errors", () => {
  let dir: string;
  const env = () => ({ RUNS_FILE: path.join(dir, "runs.log") });

  before(() => {
    dir = makeProject({ ".redun/redun.ini": INI, "workflow.ts": workflow() });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("parses arguments from the TypeScript signature", () => {
    const result = redun(
      dir,
      ["run", "workflow.ts", "main", "--x", "1", "--tags", "a", "--tags", "b", "--verbose"],
      env(),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "{ sum: 5, tags: [ 'a', 'b' ], verbose: true }");
    const choice = redun(
      dir,
      ["run", "workflow.ts", "demo.mode", "--choice", "slow", "--n", "12345678901234567890"],
      env(),
    );
    assert.equal(choice.code, 0, choice.stderr);
    assert.equal(choice.stdout.trim(), "slow:12345678901234567890");
  });

  test("File arguments are read from paths", () => {
    writeFile(dir, "input.txt", "hello");
    const result = redun(dir, ["run", "workflow.ts", "readSize", "--input", "input.txt"], env());
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "5");
  });

  test("--help lists the task's parameters", () => {
    const result = redun(dir, ["run", "workflow.ts", "main", "--help"], env());
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /demo\.main/);
    assert.match(result.stdout, /--x NUMBER/);
    assert.match(result.stdout, /--tags/);
  });

  test("-o sets options of the root call (here, the executor)", () => {
    const result = redun(
      dir,
      ["run", "-o", "executor=procs", "--no-cache", "workflow.ts", "square", "--x", "7"],
      env(),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "49");
  });

  test("-o refuses an unknown option or an invalid value with one line", () => {
    const bad = redun(
      dir,
      ["run", "-o", "cache_scope=bakend", "workflow.ts", "square", "--x", "7"],
      env(),
    );
    assert.equal(bad.code, 1);
    assert.equal(
      bad.stderr.trim().split("\n").at(-1),
      'redun: error: -o: invalid value "bakend" for option "cacheScope" (valid values: "none", "cse", "backend")',
    );
    const unknown = redun(
      dir,
      ["run", "-o", "cahce=false", "workflow.ts", "square", "--x", "7"],
      env(),
    );
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /-o: unknown option "cahce" \(did you mean "cache"\?\)/);
  });

  for (const [name, args, pattern] of [
    [
      "unknown file",
      ["run", "missing.ts", "main"],
      /^redun: error: workflow file not found: missing\.ts$/,
    ],
    [
      "unknown task",
      ["run", "workflow.ts", "nope"],
      /^redun: error: task "nope" not found in workflow\.ts \(its tasks: .*demo\.main/,
    ],
    [
      "bad number",
      ["run", "workflow.ts", "main", "--x", "abc"],
      /^redun: error: invalid value "abc" for argument --x of task demo\.main: expected a number$/,
    ],
    ["missing argument", ["run", "workflow.ts", "main"], /^redun: error: .*missing.*--x/i],
    [
      "unknown argument",
      ["run", "workflow.ts", "main", "--x", "1", "--zzz", "2"],
      /^redun: error: .*--zzz/,
    ],
    [
      "bad choice",
      ["run", "workflow.ts", "demo.mode", "--choice", "medium"],
      /^redun: error: invalid value "medium" for argument --choice of task demo\.mode: expected one of "fast", "slow"$/,
    ],
  ] as const) {
    test(`bad input is one clear line and exit 1: ${name}`, () => {
      const result = redun(dir, [...args], env());
      assert.equal(result.code, 1, result.stderr);
      const lines = result.stderr.split("\n").filter((l) => l && !l.startsWith("[redun]"));
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, pattern);
    });
  }

  test("a workflow with a syntax error is one clear line", () => {
    writeFile(dir, "broken.ts", "export const x = ;\n");
    const result = redun(dir, ["run", "broken.ts", "main"], env());
    assert.equal(result.code, 1);
    const lines = result.stderr.split("\n").filter((l) => l && !l.startsWith("[redun]"));
    assert.equal(lines.length, 1, result.stderr);
    // The compiler's message, with the file, line and column it points at.
    assert.match(
      lines[0]!,
      /^redun: error: cannot import broken\.ts: broken\.ts:1:17: Unexpected ";"$/,
    );
  });

  test("a plain JavaScript workflow takes JSON-then-string arguments", () => {
    writeFile(
      dir,
      "plain.mjs",
      `import { namespace } from "redun";\nconst { task } = namespace("plain");\n` +
        `export const echo = task(function echo(a, b) { return JSON.stringify([a, b]); });\n`,
    );
    const result = redun(dir, ["run", "plain.mjs", "echo", "--a", "[1,2]", "--b", "hello"], env());
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), '[[1,2],"hello"]');
  });

  test("npx redun works in a project that installs the package", () => {
    const result = spawnSync(
      "npx",
      ["--no-install", "redun", "run", "workflow.ts", "square", "--x", "9"],
      {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, ...env(), REDUN_CONFIG: "" },
      },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), "81");
  });
});

describe("redun run: the default pool's worker starts early only when nothing can be replayed", () => {
  // Each thread that imports the workflow logs it; the task runs inline, so a worker thread
  // that imports it is the one started early (before the run knows whether it needs one).
  const ini = `
[backend]
db_uri = sqlite:///redun.db
[scheduler]
job_status_interval = 0
[executors.here]
type = local
mode = inline
`;
  const source = `
import fs from "node:fs";
import { isMainThread } from "node:worker_threads";
import { task } from "redun";
fs.appendFileSync("imports.log", (isMainThread ? "main" : "worker") + "\\n");
// A worker started early may still be loading when a quick job ends: wait for it (3 s at most).
async function workerSeen(): Promise<boolean> {
  for (let i = 0; i < 60; i++) {
    if (fs.readFileSync("imports.log", "utf8").includes("worker")) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
export const hello = task({ name: "hello", executor: "here" }, async (x: number) => {
  await workerSeen();
  return x + 1;
});
`;
  let dir: string;
  const imports = (args: string[]) => {
    fs.rmSync(path.join(dir, "imports.log"), { force: true });
    const result = redun(dir, ["run", ...args]);
    assert.equal(result.code, 0, result.stderr);
    return fs.readFileSync(path.join(dir, "imports.log"), "utf8").trim().split("\n").sort();
  };
  before(() => {
    dir = makeProject({ ".redun/redun.ini": ini, "workflow.ts": source });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("a first run (no database yet) and --no-cache start it; other runs do not", () => {
    assert.deepEqual(imports(["workflow.ts", "hello", "--x", "1"]), ["main", "worker"]);
    // Replayed; then a new call, which runs inline: neither needs the pool.
    assert.deepEqual(imports(["workflow.ts", "hello", "--x", "1"]), ["main"]);
    assert.deepEqual(imports(["workflow.ts", "hello", "--x", "2"]), ["main"]);
    assert.deepEqual(imports(["--no-cache", "workflow.ts", "hello", "--x", "2"]), [
      "main",
      "worker",
    ]);
  });
});

describe("redun db", () => {
  let dir: string;
  before(() => {
    dir = makeProject({ ".redun/redun.ini": INI });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("info, versions, downgrade and upgrade", () => {
    const info = redun(dir, ["db", "info"]);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /schema version: 0/);
    const up = redun(dir, ["db", "upgrade"]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /upgraded to schema version 3/);
    assert.match(redun(dir, ["db", "info"]).stdout, /schema version: 3/);
    const down = redun(dir, ["db", "downgrade", "0"]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(redun(dir, ["db", "info"]).stdout, /schema version: 0/);
    const versions = redun(dir, ["db", "versions"]);
    assert.match(versions.stdout, /1 {2}provenance tables/);
    assert.match(versions.stdout, /-> 1\n.*-> 0/);
    const bad = redun(dir, ["db", "downgrade", "7"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^redun: error: unknown schema version "7"/);
  });
});
