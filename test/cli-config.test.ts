/**
 * Configuration through the real `redun` command: discovery routes, setup_scheduler with
 * --setup, job_status_interval, ignore_warnings, alias executors, limits, and malformed files.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { makeProject, redun, writeFile } from "./helpers/cli.ts";

const WORKFLOW = `
import fs from "node:fs";
import { isMainThread, threadId } from "node:worker_threads";
import { namespace, task as plainTask, Scheduler, type Config } from "redun";
import { LocalExecutor } from "redun/executors";
const { task } = namespace("cfg");

/** Where the task ran: inline (scheduler thread), thread (worker thread) or process. */
export const where = task(function where(tag: string) {
  return process.send ? "process" : isMainThread ? "inline" : "thread:" + threadId;
});

export const viaA = task({ executor: "a" }, function viaA(i: number) {
  return threadId;
});
export const viaB = task({ executor: "b" }, function viaB(i: number) {
  return threadId;
});
export const both = task(function both(n: number) {
  return [...Array.from({ length: n }, (_, i) => viaA(i)), ...Array.from({ length: n }, (_, i) => viaB(i))];
});

export const sleepy = task(async function sleepy(ms: number) {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
});

export const exclusive = task({ limits: ["one"] }, async function exclusive(log: string, i: number) {
  fs.appendFileSync(log, "start " + i + "\\n");
  await new Promise((r) => setTimeout(r, 50));
  fs.appendFileSync(log, "end " + i + "\\n");
  return i;
});
export const manyExclusive = task(function manyExclusive(log: string, n: number) {
  return Array.from({ length: n }, (_, i) => exclusive(log, i));
});

export const bare = plainTask(function bare() {
  return 1;
});

export function setup_scheduler(config: Config, profile: string = "prod", workers: number = 1): Scheduler {
  const mode = profile === "dev" ? "inline" : "process";
  return new Scheduler({
    config,
    executors: { default: new LocalExecutor("default", { mode, max_workers: workers, start_method: "fork" }) },
  });
}
`;

function ini(extra = "", jobStatusInterval = 0): string {
  return `
[backend]
db_uri = sqlite:///redun.db

[scheduler]
job_status_interval = ${jobStatusInterval}
${extra}

[executors.default]
type = local
max_workers = 2

[executors.shared]
type = local
mode = thread
max_workers = 1

[executors.a]
type = alias
target = shared

[executors.b]
type = alias
target = shared

[limits]
one = 1
`;
}

/** Error lines (not the scheduler's [redun] lines). */
function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l && !l.startsWith("[redun]"));
}

describe("configuration through the command line", () => {
  let dir: string;
  before(() => {
    dir = makeProject({
      ".redun/redun.ini": ini("ignore_warnings = namespace"),
      "workflow.ts": WORKFLOW,
    });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("setup_scheduler builds the scheduler; --setup profile=dev changes its executors", () => {
    writeFile(
      dir,
      "setup/.redun/redun.ini",
      ini("setup_scheduler = ../../workflow.ts::setup_scheduler\nignore_warnings = namespace"),
    );
    const prod = redun(dir, [
      "--config",
      "setup/.redun",
      "run",
      "--no-cache",
      "workflow.ts",
      "where",
      "--tag",
      "p",
    ]);
    assert.equal(prod.code, 0, prod.stderr);
    assert.equal(prod.stdout.trim(), "process");
    const dev = redun(dir, [
      "--config",
      "setup/.redun",
      "--setup",
      "profile=dev",
      "run",
      "--no-cache",
      "workflow.ts",
      "where",
      "--tag",
      "d",
    ]);
    assert.equal(dev.code, 0, dev.stderr);
    assert.equal(dev.stdout.trim(), "inline");
    const bad = redun(dir, [
      "--config",
      "setup/.redun",
      "--setup",
      "workers=many",
      "run",
      "workflow.ts",
      "where",
      "--tag",
      "x",
    ]);
    assert.equal(bad.code, 1);
    assert.deepEqual(errorLines(bad.stderr).length, 1, bad.stderr);
    assert.match(
      bad.stderr,
      /redun: error: invalid value "many" for argument --workers of task setup_scheduler setup_scheduler: expected a number/,
    );
    const unknown = redun(dir, [
      "--config",
      "setup/.redun",
      "--setup",
      "colour=red",
      "run",
      "workflow.ts",
      "where",
      "--tag",
      "x",
    ]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /--colour/);
  });

  test("--setup without setup_scheduler is an error", () => {
    const result = redun(dir, [
      "--setup",
      "profile=dev",
      "run",
      "workflow.ts",
      "where",
      "--tag",
      "x",
    ]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^redun: error: --setup was given, but redun.ini has no \[scheduler\] setup_scheduler$/m,
    );
  });

  test("alias executors share their target's pool", () => {
    const result = redun(dir, ["run", "workflow.ts", "both", "--n", "4"]);
    assert.equal(result.code, 0, result.stderr);
    const ids = new Set(JSON.parse(result.stdout.replace(/\s/g, "")) as number[]);
    assert.equal(
      ids.size,
      1,
      `one worker thread (max_workers = 1) served both aliases: ${result.stdout}`,
    );
  });

  test("[limits] caps concurrency exactly", () => {
    const log = path.join(dir, "limits.log");
    const result = redun(dir, ["run", "workflow.ts", "manyExclusive", "--log", log, "--n", "5"]);
    assert.equal(result.code, 0, result.stderr);
    const events = fs.readFileSync(log, "utf8").trim().split("\n");
    assert.equal(events.length, 10);
    let running = 0;
    for (const e of events) {
      running += e.startsWith("start") ? 1 : -1;
      assert.ok(running <= 1, `two exclusive jobs overlapped: ${events.join(", ")}`);
    }
  });

  test("job_status_interval sets how often the job table is printed", () => {
    writeFile(dir, "often/.redun/redun.ini", ini("ignore_warnings = namespace", 1));
    const often = redun(dir, [
      "--config",
      "often/.redun",
      "run",
      "workflow.ts",
      "sleepy",
      "--ms",
      "2600",
    ]);
    assert.equal(often.code, 0, often.stderr);
    assert.ok(often.stderr.split("[redun] Jobs:").length - 1 >= 3, often.stderr);
    const never = redun(dir, ["run", "--no-cache", "workflow.ts", "sleepy", "--ms", "1200"]);
    assert.equal(never.stderr.split("[redun] Jobs:").length - 1, 1, "only the final table");
  });

  test("ignore_warnings = namespace silences the warning for tasks without a namespace", () => {
    const quiet = redun(dir, ["run", "workflow.ts", "bare"]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /warning/);
    writeFile(dir, "loud/.redun/redun.ini", ini());
    const loud = redun(dir, ["--config", "loud/.redun", "run", "workflow.ts", "bare"]);
    assert.equal(loud.code, 0, loud.stderr);
    assert.match(loud.stderr, /\[redun\] warning \(namespace\): task "bare" has no namespace/);
  });

  test("discovery: --config, REDUN_CONFIG, the nearest .redun above, or a new one", () => {
    writeFile(dir, "nested/deep/.keep", "");
    const upward = redun(path.join(dir, "nested", "deep"), [
      "run",
      "../../workflow.ts",
      "where",
      "--tag",
      "u",
    ]);
    assert.equal(upward.code, 0, upward.stderr);
    assert.match(upward.stderr, new RegExp(`Config dir: ${dir}/\\.redun\\n`));
    const viaEnv = redun(
      path.join(dir, "nested"),
      ["run", "../workflow.ts", "where", "--tag", "e"],
      {
        REDUN_CONFIG: path.join(dir, "loud", ".redun"),
      },
    );
    assert.match(viaEnv.stderr, new RegExp(`Config dir: ${dir}/loud/\\.redun\\n`));
    const fresh = makeProject({ "workflow.ts": WORKFLOW });
    try {
      const created = redun(fresh, ["run", "workflow.ts", "where", "--tag", "n"]);
      assert.equal(created.code, 0, created.stderr);
      assert.ok(fs.existsSync(path.join(fresh, ".redun", "redun.ini")));
      assert.ok(fs.existsSync(path.join(fresh, ".redun", "redun.db")));
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
    }
    const missing = redun(dir, ["--config", "nowhere", "run", "workflow.ts", "where"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^redun: error: --config nowhere: .* has no redun\.ini$/m);
  });

  for (const [name, text, pattern] of [
    [
      "a line that is not key = value",
      "[backend]\ndb_uri\n",
      /redun\.ini, line 2: cannot read "db_uri" in \[backend\]/,
    ],
    [
      "an unknown executor type",
      "[executors.x]\ntype = teleport\n",
      /\[executors\.x\]: unknown executor type "teleport"/,
    ],
    [
      "an executor without type",
      "[executors.x]\nmode = thread\n",
      /\[executors\.x\] in .*: the option "type" is required/,
    ],
    [
      "a bad option value",
      "[executors.default]\ntype = local\nmax_workers = lots\n",
      /\[executors\.default\] max_workers: expected a whole number, got "lots"/,
    ],
    [
      "an unresolvable reference",
      "[backend]\ndb_uri = sqlite:///${NOPE_NOT_SET}/x.db\n",
      /\[backend\] db_uri: \$\{NOPE_NOT_SET\} is not defined/,
    ],
    [
      "credentials in db_uri",
      "[backend]\ndb_uri = postgresql://me:pw@localhost/db\n",
      /db_uri: a username or password is not allowed/,
    ],
    [
      "a bad limit",
      "[limits]\ndb = -1\n",
      /\[limits\] in .* db: expected a whole number of at least 0, got "-1"/,
    ],
    [
      "an alias cycle",
      "[executors.default]\ntype = alias\ntarget = other\n[executors.other]\ntype = alias\ntarget = default\n",
      /executor aliases form a cycle: default -> other -> default/,
    ],
  ] as const) {
    test(`a malformed redun.ini is one clear line: ${name}`, () => {
      writeFile(dir, `bad-${name.replace(/\W+/g, "-")}/.redun/redun.ini`, text);
      const result = redun(dir, [
        "--config",
        `bad-${name.replace(/\W+/g, "-")}/.redun`,
        "run",
        "--no-cache",
        "workflow.ts",
        "where",
        "--tag",
        "b",
      ]);
      assert.equal(result.code, 1, result.stderr);
      const lines = errorLines(result.stderr);
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, /^redun: /);
      assert.match(lines[0]!, pattern);
    });
  }
});

describe("first contact", () => {
  test("redun --version prints the package's version", () => {
    const dir = makeProject({});
    try {
      const result = redun(dir, ["--version"]);
      assert.equal(result.code, 0, result.stderr);
      const { version } = JSON.parse(
        fs.readFileSync(new URL("../package.json", import.meta.url), "utf8"),
      ) as { version: string };
      assert.equal(result.stdout.trim(), version);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("redun init creates the configuration and a migrated database", () => {
    const dir = makeProject({});
    try {
      const init = redun(dir, ["init"]);
      assert.equal(init.code, 0, init.stderr);
      assert.equal(init.stdout.trim(), path.join(fs.realpathSync(dir), ".redun"));
      assert.ok(fs.existsSync(path.join(dir, ".redun", "redun.db")));
      const info = redun(dir, ["db", "info"]);
      assert.equal(info.code, 0, info.stderr);
      assert.match(info.stdout, /status: up to date/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
