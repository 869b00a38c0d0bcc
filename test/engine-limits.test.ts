/**
 * Limits a user can set on a local task, on real worker threads, child processes and the
 * scheduler's own thread: `timeout` (the job fails with a TimeoutError, is recorded FAILED
 * and retried per `retries`, while its siblings finish), `maxMemory` (the worker's heap
 * limit: its job fails with a MemoryLimitError, the pool replaces the worker), and
 * interruption of `redun run` by SIGINT and SIGTERM (exit 130/143, finished jobs DONE,
 * jobs in flight INTERRUPTED, a rerun replays the finished ones).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import {
  InterruptedError,
  MemoryLimitError,
  RedunError,
  TaskOptionError,
  TimeoutError,
  currentSignal,
  task,
} from "../src/index.ts";
import { parseTaskOptions } from "../src/cli/run.ts";
import { lines, withEnv, WORKFLOWS, type Mode } from "./helpers/engine.ts";
import { makeProject, redun, startRedun } from "./helpers/cli.ts";
import { hogFanout, quick, timedFanout } from "./fixtures/workflows/limits-flow.ts";

const MODES: Mode[] = ["thread", "process", "inline"];
/** Generous bounds, only so that a hang fails instead of blocking the suite. */
const HANG = { timeout: 120_000 };

/** Job statuses by task name, from the database. */
function statuses(
  query: (sql: string) => Record<string, any>[],
): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const row of query(
    "SELECT task.name AS name, job.status AS status FROM job JOIN task ON task.hash = job.task_hash",
  )) {
    const byStatus = (out[row.name] ??= {});
    byStatus[row.status] = (byStatus[row.status] ?? 0) + 1;
  }
  return out;
}

describe("task option checks for limits", () => {
  it("timeout and maxMemory take numbers 0 or more; anything else is one clear error", () => {
    assert.doesNotThrow(() => task({ timeout: 1.5, maxMemory: 0.5 }, function okLimits() {}));
    assert.throws(
      () => task({ timeout: -1 }, function badTimeout() {}),
      (error: Error) =>
        error instanceof TaskOptionError &&
        /invalid value -1 for option "timeout" \(expected a number of seconds, 0 or more/.test(
          error.message,
        ),
    );
    assert.throws(
      () => task({ maxMemory: "lots" as never }, function badMemory() {}),
      /invalid value "lots" for option "maxMemory" \(expected a number of GiB, 0 or more/,
    );
    assert.throws(() => parseTaskOptions(["timeout=soon"]), /option "timeout"/);
    assert.deepEqual(parseTaskOptions(["timeout=2", "max_memory=0.5"]), {
      timeout: 2,
      maxMemory: 0.5,
    });
  });

  it("the new errors are RedunErrors with stable codes", () => {
    assert.ok(new TimeoutError("a.b", 1, "stopped") instanceof RedunError);
    assert.equal(new TimeoutError("a.b", 1, "stopped").code, "REDUN_TIMEOUT");
    assert.equal(new MemoryLimitError("a.b", 1, "thread").code, "REDUN_MEMORY_LIMIT");
    assert.equal(new InterruptedError("stopped").code, "REDUN_INTERRUPTED");
  });

  it("currentSignal() outside a task is a signal that never fires", () => {
    assert.equal(currentSignal().aborted, false);
  });
});

describe("timeout", () => {
  for (const mode of MODES) {
    it(
      `[${mode}] a task past its timeout fails with TimeoutError, is retried and recorded FAILED; siblings finish`,
      HANG,
      async () => {
        await withEnv({ mode }, async ({ scheduler, file, query, logs }) => {
          const trace = file("trace.log");
          await assert.rejects(scheduler.run(timedFanout(trace, 0.5, 1)), (error: Error) => {
            assert.ok(error instanceof TimeoutError, String(error));
            assert.equal(error.code, "REDUN_TIMEOUT");
            assert.match(
              error.message,
              /^task "limits\.slow" timed out: it ran past its timeout of 0\.5 s; /,
            );
            return true;
          });
          const log = lines(trace);
          // Two attempts (retries: 1), neither finished; the siblings did.
          assert.equal(log.filter((l) => l === "attempt 60").length, 2, log.join("\n"));
          assert.ok(!log.includes("finished 60"));
          for (const line of ["quick 1", "quick 2", "finished 0.05"])
            assert.ok(log.includes(line), line);
          if (mode === "inline") {
            // The task saw its signal fire with the TimeoutError, at each attempt.
            assert.equal(log.filter((l) => l === "aborted TimeoutError").length, 2);
          }
          assert.match(
            logs.join(""),
            /Retrying limits\.slow \(attempt 2 of 2\): task "limits\.slow" timed out/,
          );
          assert.equal(scheduler.status.count("limits.slow", "FAILED"), 1);
          assert.equal(scheduler.status.count("limits.slow", "DONE"), 1);
          assert.equal(scheduler.status.count("limits.quick", "DONE"), 2);
          const rows = statuses(query);
          assert.deepEqual(rows.slow, { FAILED: 1, DONE: 1 });
          assert.deepEqual(rows.quick, { DONE: 2 });
          // The executor still runs jobs afterwards.
          assert.equal(await scheduler.run(quick(trace, 7)), 70);
        });
      },
    );
  }
});

describe("maxMemory", () => {
  for (const mode of ["thread", "process"] as const) {
    it(
      `[${mode}] a worker past maxMemory fails its job clearly; siblings finish; the pool keeps working`,
      HANG,
      async () => {
        await withEnv({ mode }, async ({ scheduler, file, query }) => {
          const trace = file("trace.log");
          await assert.rejects(scheduler.run(hogFanout(trace, 0.25)), (error: Error) => {
            assert.ok(error instanceof MemoryLimitError, String(error));
            assert.equal(error.code, "REDUN_MEMORY_LIMIT");
            assert.equal(
              error.message,
              `task "limits.hog" ran out of memory: its ${mode} worker passed maxMemory 0.25 GiB ` +
                "(256 MiB of JavaScript heap); the worker was replaced",
            );
            return true;
          });
          const log = lines(trace);
          assert.ok(log.includes("quick 3") && log.includes("quick 4"), log.join("\n"));
          assert.deepEqual(statuses(query).quick, { DONE: 2 });
          assert.deepEqual(statuses(query).hog, { FAILED: 1 });
          // The limited pool replaced its worker: jobs with the same limit run on.
          assert.equal(await scheduler.run(quick.options({ maxMemory: 0.25 })(trace, 5)), 50);
          assert.equal(await scheduler.run(quick(trace, 6)), 60);
        });
      },
    );
  }
});

// ---- redun run: limits from redun.ini, and interruption -------------------------------

function project(mode: Mode, extra = ""): string {
  return makeProject({
    ".redun/redun.ini": `[backend]
db_uri = sqlite:///redun.db

[scheduler]
job_status_interval = 0
ignore_warnings = namespace

[executors.default]
type = local
mode = ${mode}
max_workers = 4
${extra}`,
    "workflow.ts": fs.readFileSync(path.join(WORKFLOWS, "limits-cli.ts"), "utf8"),
  });
}

describe("redun run with limits from redun.ini", () => {
  for (const mode of ["thread", "process"] as const) {
    it(
      `[${mode}] max_memory: one line naming the task and the limit, no V8 crash dump; siblings finish`,
      HANG,
      () => {
        const dir = project(mode, "max_memory = 0.25\n");
        try {
          const result = redun(dir, ["run", "workflow.ts", "hogs", "--dir", dir]);
          assert.equal(result.code, 1, result.stderr);
          assert.match(
            result.stderr,
            new RegExp(
              `task "hog" ran out of memory: its ${mode} worker passed maxMemory 0\\.25 GiB`,
            ),
          );
          for (const internal of ["FATAL ERROR", "Native stack trace", "Last few GCs", "node::"]) {
            assert.ok(!result.stderr.includes(internal), `${internal} in:\n${result.stderr}`);
          }
          const log = lines(path.join(dir, "trace.log"));
          assert.ok(log.includes("quick 3") && log.includes("quick 4"), log.join("\n"));
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  }

  it("max_memory with mode = inline is a configuration error", () => {
    const dir = project("inline", "max_memory = 1\n");
    try {
      const result = redun(dir, ["run", "workflow.ts", "quick", "--dir", dir, "--x", "1"]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /max_memory.*applies to thread and process workers/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A `redun run` in the background, its output collected. */
const startRun = (dir: string, args: string[]) => startRedun(dir, args);

async function until(check: () => boolean, what: string, output: () => unknown): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > 60_000) {
      assert.fail(`timed out waiting for ${what}: ${JSON.stringify(output())}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("redun run interrupted", () => {
  for (const mode of MODES) {
    for (const [signal, code, twice] of [
      ["SIGINT", 130, true],
      ["SIGTERM", 143, false],
    ] as const) {
      it(
        `[${mode}] ${signal}${twice ? " twice" : ""}: exit ${code}, finished jobs DONE, jobs in flight INTERRUPTED, a rerun replays`,
        HANG,
        async () => {
          const dir = project(mode);
          try {
            fs.writeFileSync(path.join(dir, "hold"), "");
            const trace = path.join(dir, "trace.log");
            const run = startRun(dir, [
              "run",
              "--execution-id",
              "first",
              "workflow.ts",
              "main",
              "--dir",
              dir,
            ]);
            await until(
              () => lines(trace).filter((l) => l.startsWith("long ")).length === 2,
              "the long jobs to start",
              run.output,
            );
            run.child.kill(signal);
            if (twice) {
              await until(
                () => run.output().stderr.includes(`Interrupted (${signal})`),
                "the first notice",
                run.output,
              );
              run.child.kill(signal);
            }
            const exit = (await run.done).code;
            const { stdout, stderr } = run.output();
            assert.equal(exit, code, stderr);
            assert.equal(stdout, "");
            assert.match(
              stderr,
              new RegExp(
                `Interrupted by ${signal}: finished jobs are recorded; 3 job\\(s\\) were interrupted`,
              ),
            );
            assert.ok(!/\n\s+at /.test(stderr), `a stack trace in:\n${stderr}`);
            // The status table shows them.
            assert.match(
              stderr,
              /TASK\s+PENDING\s+RUNNING\s+FAILED\s+CACHED\s+DONE\s+INTERRUPTED\s+TOTAL/,
            );
            assert.match(stderr, /ALL\s+0\s+0\s+0\s+0\s+2\s+3\s+5/);

            const log = redun(dir, ["log", "first"]);
            assert.equal(log.code, 0, log.stderr);
            assert.match(log.stdout, /Jobs: +5 \(DONE 2, INTERRUPTED 3\)/);
            assert.equal((log.stdout.match(/\[INTERRUPTED\]/g) ?? []).length, 3, log.stdout);
            assert.match(log.stdout, /\[INTERRUPTED\] [^\n]* main\(/);
            assert.equal((log.stdout.match(/\[ +DONE +\]/g) ?? []).length, 2, log.stdout);
            assert.ok(!/RUNNING|FAILED/.test(log.stdout), log.stdout);

            // A rerun replays the finished calls and runs the interrupted ones.
            fs.rmSync(path.join(dir, "hold"));
            const rerun = redun(dir, ["run", "workflow.ts", "main", "--dir", dir]);
            assert.equal(rerun.code, 0, rerun.stderr);
            assert.equal(rerun.stdout.replace(/\s+/g, " ").trim(), "[ 10, 20, 11, 21 ]");
            assert.deepEqual(
              lines(trace)
                .filter((l) => l.startsWith("quick "))
                .sort(),
              ["quick 1", "quick 2"],
            );
          } finally {
            fs.rmSync(dir, { recursive: true, force: true });
          }
        },
      );
    }
  }
});

describe("redun run interrupted, running jobs finish within the grace period", () => {
  for (const mode of MODES) {
    it(
      `[${mode}] SIGTERM once, then the jobs finish: all DONE, the result printed, exit 143`,
      HANG,
      async () => {
        const dir = project(mode);
        try {
          fs.writeFileSync(path.join(dir, "hold"), "");
          const trace = path.join(dir, "trace.log");
          const run = startRun(dir, ["run", "workflow.ts", "main", "--dir", dir]);
          await until(
            () => lines(trace).filter((l) => l.startsWith("long ")).length === 2,
            "the long jobs to start",
            run.output,
          );
          run.child.kill("SIGTERM");
          await until(
            () => run.output().stderr.includes("Interrupted (SIGTERM)"),
            "the notice",
            run.output,
          );
          fs.rmSync(path.join(dir, "hold"));
          const exit = (await run.done).code;
          const { stdout, stderr } = run.output();
          assert.equal(exit, 143, stderr);
          assert.equal(stdout.replace(/\s+/g, " ").trim(), "[ 10, 20, 11, 21 ]");
          assert.match(stderr, /Interrupted by SIGTERM: the run finished first/);
          assert.match(stderr, /ALL\s+0\s+0\s+0\s+0\s+5\s+5/);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  }
});
