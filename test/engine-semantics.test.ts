/**
 * Helpers, caching and provenance as Python redun defines them (issue 19): const_, cond
 * chains, catch_ with class lists and cached recoveries, map_ over a task expression,
 * cacheScope "none", the shallow cache's fallback, prov: false, the job context, and the
 * provenance of failures, CSE twins and list roots. Real worker threads; what reads the
 * backend runs on a real SQLite file and on a real PostgreSQL database.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { catch_, cond, const_, DryRunResult, getContext, map_, task } from "../src/index.ts";
import * as wf from "./fixtures/workflows/engine-semantics.ts";
import { lines, withEnv } from "./helpers/engine.ts";
import { forEachDialect, withDialectEnv } from "./helpers/dialects.ts";

const jobsOf = (query: (sql: string, ...p: unknown[]) => Promise<any[]>, task: string) =>
  query(
    "select job.* from job join task on task.hash = job.task_hash where task.fullname = ? order by start_time",
    task,
  );

describe("helpers as redun defines them", () => {
  it("const_(x, y) returns x after evaluating y", async () => {
    await withEnv({}, async ({ scheduler, file }) => {
      const counter = file("counter");
      assert.equal(await scheduler.run(const_(wf.add(1, 2), wf.tick(counter, "y"))), 3);
      assert.deepEqual(lines(counter), ["tick y"]);
    });
  });

  it("cond takes an if/elif/else chain and evaluates only the chosen branch", async () => {
    await withEnv({}, async ({ scheduler, file }) => {
      const counter = file("counter");
      const chain = (p1: unknown, p2: unknown) =>
        cond(
          p1,
          wf.tick(counter, "first"),
          p2,
          wf.tick(counter, "second"),
          wf.tick(counter, "else"),
        );
      assert.equal(await scheduler.run(chain(false, wf.add(0, 1))), "second");
      assert.equal(await scheduler.run(chain(wf.add(0, 0), 0)), "else");
      assert.equal(await scheduler.run(chain(true, true)), "first");
      assert.deepEqual(lines(counter), ["tick second", "tick else", "tick first"]);
    });
  });

  it("cond never drops arguments silently", () => {
    assert.throws(() => (cond as any)(true, 1, false, 2), /odd number of arguments .*got 4/);
    assert.throws(() => (cond as any)(true, 1), /odd number of arguments/);
  });

  it("catch_ accepts a list of error classes for one handler", async () => {
    await withEnv({}, async ({ scheduler, file }) => {
      const counter = file("counter");
      const result = await scheduler.run(
        catch_(wf.boom(counter, "a"), [RangeError, wf.SemError], wf.recoverPlain),
      );
      assert.equal(result, "plain: boom a");
    });
  });

  it("an error class exported by a workflow keeps its identity in a worker's handler", async () => {
    await withEnv({ mode: "thread" }, async ({ scheduler, file }) => {
      const result = await scheduler.run(
        catch_(wf.boom(file("counter"), "w"), wf.SemError, wf.isSemError),
      );
      assert.deepEqual(result, [true, "SemError", "boom w"]);
    });
  });

  it("catch_ refuses a plain function as a handler, with one clear error", () => {
    assert.throws(
      () => catch_(wf.add(1, 2), Error, ((e: Error) => e.message) as any),
      /handler for Error must be a task .*wrap it with task\(\)/,
    );
  });

  it("map_ accepts a task given as an expression", async () => {
    await withEnv({}, async ({ scheduler }) => {
      assert.deepEqual(await scheduler.run(map_(wf.pick("double"), [1, 2, 3])), [2, 4, 6]);
    });
  });
});

forEachDialect((dialect) => {
  describe(`[${dialect}] caching as redun defines it`, () => {
    it("a catch_ that recovered is replayed without running the failing task again", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file, query }) => {
        const counter = file("counter");
        const workflow = () => catch_(wf.boom(counter, "x"), wf.SemError, wf.recover.options({}));
        assert.equal(await scheduler.run(workflow()), "recovered: boom x");
        assert.deepEqual(lines(counter), ["boom x", "recover boom x"]);
        assert.equal(await scheduler.run(workflow()), "recovered: boom x");
        assert.deepEqual(lines(counter), ["boom x", "recover boom x"], "nothing ran again");
        const catches = await jobsOf(query, "redun.catch_");
        assert.deepEqual(
          catches.map((j) => [j.status, j.cached]),
          [
            ["DONE", 0],
            ["CACHED", 1],
          ],
        );
      });
    });

    it("with cacheScope none, one expression used twice runs once", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file }) => {
        const counter = file("counter");
        const once = wf.uncached(counter, 7);
        assert.deepEqual(await scheduler.run([once, once, wf.uncached(counter, 7)]), [7, 7, 7]);
        assert.deepEqual(lines(counter), ["uncached 7", "uncached 7"]);
      });
    });

    it("a shallow hit that cannot be replayed falls back to the task's own cached reduction", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file, query }) => {
        const counter = file("counter");
        assert.equal(await scheduler.run(wf.shallow(counter, 4)), 8);
        // Something beneath changed: the call's subtree names a task that no longer exists.
        await query(
          "insert into call_subtree_task (call_hash, task_hash) select call_hash, 'gone' from call_node where task_name = 'sem.shallow'",
        );
        assert.equal(await scheduler.run(wf.shallow(counter, 4)), 8);
        assert.deepEqual(lines(counter), ["shallow 4"], "the body did not run again");
        assert.equal((await jobsOf(query, "sem.shallow")).at(-1).status, "CACHED");
      });
    });
  });

  describe(`[${dialect}] prov: false`, () => {
    it("records nothing for the call and the calls beneath it, and caches only within the run", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file, query }) => {
        const counter = file("counter");
        assert.equal(await scheduler.run(wf.unrecorded(counter, 3)), 6);
        assert.equal(await scheduler.run(wf.unrecorded(counter, 3)), 6);
        assert.deepEqual(lines(counter), ["unrecorded 3", "unrecorded 3"]);
        assert.equal((await jobsOf(query, "sem.unrecorded")).length, 0);
        assert.equal((await jobsOf(query, "sem.double")).length, 0);
      });
    });

    it("run({ prov: false }) records no job", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, query }) => {
        assert.equal(await scheduler.run(wf.add(1, 1), { prov: false }), 2);
        assert.equal((await query("select * from job")).length, 0);
      });
    });
  });

  describe(`[${dialect}] context`, () => {
    it("getContext reads the run's context, defaults apply, updateContext reaches the calls beneath", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file }) => {
        const counter = file("counter");
        assert.equal(await scheduler.run(wf.explicit(getContext("tool.threads", 1))), 1);
        assert.equal(
          await scheduler.run(wf.explicit(getContext("tool.threads", 1)), {
            context: { tool: { threads: 4 } },
          }),
          4,
        );
        assert.deepEqual(await scheduler.run(wf.withTools(counter)), [1, 1]);
        assert.deepEqual(
          await scheduler.run(wf.withTools.updateContext({ tool: { threads: 8 } })(counter)),
          [8, 1],
        );
        // Sorted: the two calls of the first run go side by side, in either order.
        assert.deepEqual(
          lines(counter).sort(),
          ["plain 1", "threads 1", "threads 8"],
          "plain never reran",
        );
      });
    });

    it("a job's context is recorded as a redun.context tag", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file, query }) => {
        const counter = file("counter");
        await scheduler.run(wf.withTools(counter), { context: { tool: { threads: 2 } } });
        const tags = await query("select * from tag where key = 'redun.context'");
        assert.equal(tags.length, 3, "withTools, threads and plain");
        const hash = JSON.parse(tags[0].value);
        assert.equal((await query("select * from value where value_hash = ?", hash)).length, 1);
      });
    });
  });

  describe(`[${dialect}] provenance never loses a call`, () => {
    it("a failed job records its arguments and its error", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file, query }) => {
        const counter = file("counter");
        await assert.rejects(scheduler.run(wf.boom(counter, "args")), /boom args/);
        const [job] = await jobsOf(query, "sem.boom");
        assert.equal(job.status, "FAILED");
        assert.ok(job.call_hash, "the failed job has a call");
        const args = await query(
          "select * from argument where call_hash = ? order by arg_position",
          job.call_hash,
        );
        assert.deepEqual(
          args.map((a) => a.arg_key),
          ["counter", "label"],
        );
      });
    });

    it("a recovered failure is among the catch_'s children, and the handler's argument names it", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file, query }) => {
        const counter = file("counter");
        await scheduler.run(catch_(wf.boom(counter, "p"), wf.SemError, wf.recover));
        const [catchJob] = await jobsOf(query, "redun.catch_");
        const [failed] = await jobsOf(query, "sem.boom");
        const [handler] = await jobsOf(query, "sem.recover");
        assert.equal(failed.parent_id, catchJob.id);
        assert.equal(handler.parent_id, catchJob.id);
        const children = (
          await query(
            "select child_id from call_edge where parent_id = ? order by call_order",
            catchJob.call_hash,
          )
        ).map((r) => r.child_id);
        assert.deepEqual(children, [failed.call_hash, handler.call_hash]);
        const upstream = await query(
          "select result_call_hash from argument_result join argument using (arg_hash) where argument.call_hash = ? and arg_position = 0",
          handler.call_hash,
        );
        assert.deepEqual(
          upstream.map((r) => r.result_call_hash),
          [failed.call_hash],
        );
      });
    });

    it("both arguments read from one call record it as their upstream", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, query }) => {
        assert.deepEqual(await scheduler.run(wf.twice(5)), [5, 5]);
        const [pairJob] = await jobsOf(query, "sem.pair");
        const [bothJob] = await jobsOf(query, "sem.both");
        const rows = await query(
          "select arg_position, result_call_hash from argument_result join argument using (arg_hash) where argument.call_hash = ? order by arg_position",
          bothJob.call_hash,
        );
        assert.deepEqual(rows, [
          { arg_position: 0, result_call_hash: pairJob.call_hash },
          { arg_position: 1, result_call_hash: pairJob.call_hash },
        ]);
      });
    });

    it("a call collapsed by CSE has a job of its own, CACHED", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, query }) => {
        assert.deepEqual(await scheduler.run(wf.sameTwice(3)), [6, 6]);
        const jobs = await jobsOf(query, "sem.double");
        assert.deepEqual(jobs.map((j) => j.status).sort(), ["CACHED", "DONE"]);
        assert.equal(jobs[0].call_hash, jobs[1].call_hash);
      });
    });

    it("a list of calls as the root has one root job", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, query }) => {
        assert.deepEqual(await scheduler.run([wf.add(1, 2), wf.double(4)]), [3, 8]);
        const roots = await query("select * from job where parent_id is null");
        assert.equal(roots.length, 1);
        const [execution] = await query("select * from execution");
        assert.equal(execution.job_id, roots[0].id);
        assert.equal((await jobsOf(query, "redun.root_task")).length, 1);
      });
    });
  });
});

forEachDialect((dialect) =>
  describe(`[${dialect}] dry run`, () => {
    it("says why each job would run", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler }) => {
        await scheduler.run(wf.add(1, 2));
        await assert.rejects(
          scheduler.run([wf.add(1, 5), wf.double(7)], { dryrun: true }),
          (error: unknown) => {
            assert.ok(error instanceof DryRunResult);
            const byCall = Object.fromEntries(error.wouldRun.map((c, i) => [c, error.reasons[i]]));
            assert.deepEqual(byCall, { "sem.add(1, 5)": "new args", "sem.double(7)": "new call" });
            return true;
          },
        );
      });
    });
  }),
);

describe("invalid options", () => {
  it("are one clear error naming the option and the valid values", () => {
    assert.throws(
      () => task({ cacheScope: "bakend" as any }, function badScope() {}),
      /task "badScope": invalid value "bakend" for option "cacheScope" \(valid values: "none", "cse", "backend"\)/,
    );
    assert.throws(
      () => task({ checkValid: "deep" as any }, function badCheck() {}),
      /option "checkValid" \(valid values: "full", "shallow"\)/,
    );
    assert.throws(
      () => task({ nout: 1.5 }, function badNout() {}),
      /invalid value 1.5 for option "nout" \(expected a whole number, 0 or more\)/,
    );
    assert.throws(
      () => task({ cahce: false } as any, function typo() {}),
      /task "typo": unknown option "cahce" \(did you mean "cache"\?\)/,
    );
    assert.throws(() => wf.add.options({ nout: -1 }), /sem\.add\.options\(\): invalid value -1/);
    assert.throws(
      () => wf.add.options({ version: "2" } as any),
      /unknown option "version" \(it identifies the task/,
    );
    assert.throws(() => wf.add.exportOptions({ colour: 1 } as any), /unknown option "colour"/);
  });
});
