/**
 * Scheduler semantics: helpers, caching, CSE, cache scopes, retries, failures, limits,
 * executors, scale and dry runs. Workflows live in fixtures/workflows/engine-sched.ts and
 * run on real worker threads / child processes; what touches the backend (caching, failures,
 * replays, dry runs) runs on a real SQLite file and on a real PostgreSQL database.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import {
  apply,
  catch_,
  cond,
  const_,
  delay,
  Delayed,
  DryRunResult,
  flatten,
  force,
  LimitError,
  map_,
  seq,
  throw_,
  zip_,
} from "../src/index.ts";
import * as wf from "./fixtures/workflows/engine-sched.ts";
import { lines, maxOverlap, runInChild, tempDir, withEnv } from "./helpers/engine.ts";
import {
  createTestDatabase,
  forEachDialect,
  withDialectEnv,
  type DialectName,
  type TestDatabase,
} from "./helpers/dialects.ts";

const SCHED = "engine_sched";
const name = (task: { fullname: string }) => task.fullname;

describe("scheduler helpers", () => {
  it("apply runs a plain function on evaluated arguments", async () => {
    await withEnv({}, async ({ scheduler }) => {
      const seen: unknown[] = [];
      const result = await scheduler.run(
        apply(
          (a: number, b: number) => {
            seen.push(a, b);
            return a * b;
          },
          wf.add(1, 2),
          4,
        ),
      );
      assert.equal(result, 12);
      assert.deepEqual(seen, [3, 4]);
    });
  });

  it("apply may return an expression, which is evaluated too", async () => {
    await withEnv({}, async ({ scheduler }) => {
      const result = await scheduler.run(apply((n: number) => wf.double(n), wf.add(1, 1)));
      assert.equal(result, 4);
      assert.equal(scheduler.status.count(name(wf.double), "DONE"), 1);
    });
  });

  it("cond evaluates only the chosen branch (then)", async () => {
    await withEnv({}, async ({ scheduler, file }) => {
      const counter = file("counter");
      const result = await scheduler.run(cond(wf.isPositive(5), wf.yes(counter), wf.no(counter)));
      assert.equal(result, "yes");
      assert.deepEqual(lines(counter), ["yes"]);
      assert.equal(scheduler.status.count(name(wf.no), "DONE"), 0);
    });
  });

  it("cond evaluates only the chosen branch (otherwise)", async () => {
    await withEnv({}, async ({ scheduler, file }) => {
      const counter = file("counter");
      const result = await scheduler.run(cond(wf.isPositive(-5), wf.yes(counter), wf.no(counter)));
      assert.equal(result, "no");
      assert.deepEqual(lines(counter), ["no"]);
      assert.equal(scheduler.status.count(name(wf.yes), "DONE"), 0);
    });
  });

  it("cond built inside a worker task evaluates only one branch", async () => {
    await withEnv({}, async ({ scheduler, file }) => {
      const counter = file("counter");
      assert.deepEqual(await scheduler.run([wf.choose(counter, 3), wf.choose(counter, -3)]), [
        "yes",
        "no",
      ]);
      assert.deepEqual(lines(counter).sort(), ["no", "yes"]);
    });
  });

  it("cond treats plain falsy predicates as false", async () => {
    await withEnv({ mode: "inline" }, async ({ scheduler }) => {
      assert.deepEqual(
        await scheduler.run([
          cond(0, "t", "f"),
          cond("", "t", "f"),
          cond(null, "t", "f"),
          cond([], "t", "f"),
        ]),
        ["f", "f", "f", "t"],
      );
    });
  });

  it("seq evaluates in order, one after another (inline: would interleave if parallel)", async () => {
    await withEnv({ mode: "inline" }, async ({ scheduler, file }) => {
      const log = file("log");
      const result = await scheduler.run(
        seq([wf.step(log, "a", 60), wf.step(log, "b", 30), wf.step(log, "c", 0)]),
      );
      assert.deepEqual(result, ["a", "b", "c"]);
      assert.deepEqual(lines(log), ["start a", "end a", "start b", "end b", "start c", "end c"]);
    });
  });

  it("seq evaluates in order on worker threads", async () => {
    await withEnv({}, async ({ scheduler, file }) => {
      const log = file("log");
      const result = await scheduler.run(
        seq([wf.step(log, "a", 60), wf.step(log, "b", 30), wf.step(log, "c", 0)]),
      );
      assert.deepEqual(result, ["a", "b", "c"]);
      assert.deepEqual(lines(log), ["start a", "end a", "start b", "end b", "start c", "end c"]);
    });
  });

  it("catch_ recovers from an error of the matching class thrown in a thread worker", async () => {
    await withEnv({}, async ({ scheduler }) => {
      const result = await scheduler.run(catch_(wf.boom("bad"), wf.BoomError, wf.recover));
      assert.equal(result, "recovered BoomError: bad (42)");
      // The failure the handler took is counted as recovered, not failed.
      assert.equal(scheduler.status.count(name(wf.boom), "FAILED"), 0);
      assert.equal(scheduler.status.count(name(wf.boom), "RECOVERED"), 1);
      assert.equal(scheduler.status.count(name(wf.recover), "DONE"), 1);
    });
  });

  it("catch_ matches a base class of the thrown error", async () => {
    await withEnv({}, async ({ scheduler }) => {
      const result = await scheduler.run(catch_(wf.boom("base"), Error, wf.recover));
      assert.equal(result, "recovered BoomError: base (42)");
    });
  });

  it("catch_ with a non-matching class lets the error through", async () => {
    await withEnv({}, async ({ scheduler }) => {
      await assert.rejects(
        scheduler.run(catch_(wf.boom("nope"), RangeError, wf.recover)),
        (error: Error) => {
          assert.equal(error.name, "BoomError");
          assert.equal(error.message, "nope");
          return true;
        },
      );
      assert.equal(scheduler.status.count(name(wf.recover), "DONE"), 0);
    });
  });

  it("catch_ tries (class, handler) pairs in order", async () => {
    await withEnv({}, async ({ scheduler }) => {
      const result = await scheduler.run(
        catch_(wf.boom("pairs"), RangeError, wf.recover, wf.BoomError, wf.recover),
      );
      assert.equal(result, "recovered BoomError: pairs (42)");
    });
  });

  it("catch_ returns the expression's value and runs no handler when nothing fails", async () => {
    await withEnv({}, async ({ scheduler }) => {
      assert.equal(await scheduler.run(catch_(wf.add(2, 3), Error, wf.recover)), 5);
      assert.equal(scheduler.status.totals().FAILED, 0);
      assert.equal(scheduler.status.count(name(wf.recover), "DONE"), 0);
    });
  });

  it("catch_ built inside a worker task: matching recovers, non-matching fails", async () => {
    await withEnv({}, async ({ scheduler }) => {
      assert.equal(await scheduler.run(wf.safeBoom("inner")), "recovered BoomError: inner (42)");
      await assert.rejects(scheduler.run(wf.unsafeBoom("inner2")), {
        name: "BoomError",
        message: "inner2",
      });
    });
  });

  it("throw_ fails the evaluation with the given error", async () => {
    await withEnv({}, async ({ scheduler }) => {
      await assert.rejects(
        scheduler.run(throw_(new RangeError("thrown lazily"))),
        (error: unknown) => {
          assert.ok(error instanceof RangeError);
          assert.equal((error as Error).message, "thrown lazily");
          return true;
        },
      );
    });
  });

  it("throw_ returned from a worker task fails with the error and its properties", async () => {
    await withEnv({}, async ({ scheduler }) => {
      await assert.rejects(scheduler.run(wf.raise("from worker")), (error: any) => {
        assert.equal(error.name, "BoomError");
        assert.equal(error.message, "from worker");
        assert.equal(error.code, 7);
        return true;
      });
    });
  });

  it("throw_ can be caught by catch_", async () => {
    await withEnv({}, async ({ scheduler }) => {
      assert.equal(
        await scheduler.run(catch_(wf.raise("caught"), wf.BoomError, wf.recover)),
        "recovered BoomError: caught (7)",
      );
    });
  });

  it("map_ maps a task over a list that is itself an expression", async () => {
    await withEnv({}, async ({ scheduler }) => {
      assert.deepEqual(await scheduler.run(map_(wf.double, wf.range(4))), [0, 2, 4, 6]);
      assert.equal(scheduler.status.count(name(wf.double), "DONE"), 4);
      assert.deepEqual(await scheduler.run(map_(wf.double, [5, wf.add(1, 2)])), [10, 6]);
    });
  });

  it("flatten flattens one level of a lazy list", async () => {
    await withEnv({}, async ({ scheduler }) => {
      assert.deepEqual(await scheduler.run(flatten(wf.pairs(3))), [0, 0, 1, 10, 2, 20]);
      assert.deepEqual(await scheduler.run(flatten([[wf.add(1, 1)], [3, [4]]])), [2, 3, [4]]);
    });
  });

  it("zip_ zips lazy lists to the shortest length", async () => {
    await withEnv({}, async ({ scheduler }) => {
      assert.deepEqual(await scheduler.run(zip_(wf.range(3), wf.letters(4))), [
        [0, "a"],
        [1, "b"],
        [2, "c"],
      ]);
    });
  });

  it("const_(x, y) evaluates both and returns x, as in redun", async () => {
    await withEnv({}, async ({ scheduler, file }) => {
      const counter = file("counter");
      assert.equal(await scheduler.run(const_(wf.add(1, 2), wf.tick(counter, "x"))), 3);
      assert.deepEqual(lines(counter), ["tick x"]);
    });
  });

  it("delay does not evaluate; force does", async () => {
    await withEnv({}, async ({ scheduler, file }) => {
      const counter = file("counter");
      const delayed = await scheduler.run(delay(wf.tick(counter, "d")));
      assert.ok(delayed instanceof Delayed);
      assert.deepEqual(lines(counter), []);
      // Only the execution's root job (redun.root_task) ran.
      assert.equal(scheduler.status.count(name(wf.tick), "DONE"), 0);
      assert.equal(await scheduler.run(force(delay(wf.tick(counter, "d")))), "d");
      assert.deepEqual(lines(counter), ["tick d"]);
      // A Delayed value itself can be forced later.
      assert.equal(await scheduler.run(force(delayed)), "d");
    });
  });

  it(".get() reads keys and indexes of results lazily", async () => {
    await withEnv({}, async ({ scheduler }) => {
      const o = wf.obj(5);
      assert.equal(await scheduler.run(o.get("a")), 5);
      assert.deepEqual(await scheduler.run(o.get("b")), [5, 6]);
      assert.equal(await scheduler.run(o.get("b").get(1)), 6);
      assert.equal(await scheduler.run(o.get("nested").get("c")), "deep5");
      assert.equal(await scheduler.run(wf.range(5).get(3)), 3);
      assert.equal(await scheduler.run(wf.add(o.get("a"), wf.range(5).get(4))), 9);
    });
  });

  it(".get() on null fails clearly", async () => {
    await withEnv({ mode: "inline" }, async ({ scheduler }) => {
      await assert.rejects(
        scheduler.run(
          wf
            .obj(1)
            .get("missing" as any)
            .get("x"),
        ),
        /Cannot read "x" of undefined/,
      );
    });
  });

  it("expressions nested in arrays, objects and Maps are evaluated", async () => {
    await withEnv({}, async ({ scheduler }) => {
      const result = await scheduler.run({
        x: wf.add(1, 2),
        y: [wf.double(2), "literal", { z: wf.double(5) }],
        m: new Map([["k", wf.add(2, 3)]]),
      });
      assert.deepEqual(result, { x: 3, y: [4, "literal", { z: 10 }], m: new Map([["k", 5]]) });
    });
  });
});

forEachDialect((dialect) =>
  describe(`[${dialect}] caching`, () => {
    it("a second run is fully replayed from the cache", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, newScheduler, file }) => {
        const counter = file("counter");
        assert.equal(await scheduler.run(wf.sumSquares(counter, [1, 2, 3])), 14);
        assert.equal(scheduler.status.count(name(wf.sq), "DONE"), 3);
        assert.equal(lines(counter).length, 3);

        const second = newScheduler();
        assert.equal(await second.run(wf.sumSquares(counter, [1, 2, 3])), 14);
        assert.equal(second.status.count(name(wf.sq), "CACHED"), 3);
        assert.equal(second.status.count(name(wf.sumSquares), "CACHED"), 1);
        assert.equal(second.status.count(name(wf.sumList), "CACHED"), 1);
        assert.equal(second.status.totals().DONE, 0);
        assert.equal(lines(counter).length, 3, "no task body ran again");
      });
    });

    it("a changed argument reruns only that call", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file }) => {
        const counter = file("counter");
        assert.equal(await scheduler.run(wf.sumSquares(counter, [1, 2, 3])), 14);
        assert.equal(await scheduler.run(wf.sumSquares(counter, [1, 2, 4])), 21);
        assert.equal(scheduler.status.count(name(wf.sq), "CACHED"), 2);
        assert.equal(scheduler.status.count(name(wf.sq), "DONE"), 1);
        assert.deepEqual(lines(counter).slice(0, 3).sort(), ["sq 1", "sq 2", "sq 3"]);
        assert.deepEqual(lines(counter).slice(3), ["sq 4"]);
        assert.equal(scheduler.status.count(name(wf.sumSquares), "DONE"), 1);
      });
    });

    it("CSE: the same call twice in one run executes once", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file }) => {
        const counter = file("counter");
        assert.deepEqual(
          await scheduler.run([wf.sq(counter, 3), wf.sq(counter, 3), wf.add(wf.sq(counter, 3), 1)]),
          [9, 9, 10],
        );
        assert.deepEqual(lines(counter), ["sq 3"]);
        assert.equal(scheduler.status.count(name(wf.sq), "DONE"), 1);
      });
    });

    it("CSE: identical calls returned by a worker task execute once", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file }) => {
        const counter = file("counter");
        assert.deepEqual(await scheduler.run(wf.sameThrice(counter, 4)), [16, 16, 16]);
        assert.deepEqual(lines(counter), ["sq 4"]);
      });
    });

    it("CSE: a call requested while the same call is running is shared", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file }) => {
        const counter = file("counter");
        assert.deepEqual(
          await scheduler.run([wf.viaFirst(counter, 6), wf.viaSecond(counter, 6)]),
          [36, 36],
        );
        assert.deepEqual(lines(counter), ["slowSq start 6", "slowSq end 6"]);
        assert.equal(scheduler.status.count(name(wf.slowSq), "DONE"), 1);
      });
    });

    it("CSE: calls requested at the same moment in parallel execute once", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file }) => {
        const counter = file("counter");
        const calls = Array.from({ length: 6 }, () => wf.slowSq(counter, 7));
        assert.deepEqual(await scheduler.run(calls), [49, 49, 49, 49, 49, 49]);
        assert.deepEqual(lines(counter), ["slowSq start 7", "slowSq end 7"]);
      });
    });

    it("cache: false reruns across runs but still shares calls within a run", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file }) => {
        const counter = file("counter");
        assert.deepEqual(
          await scheduler.run([wf.uncached(counter, 1), wf.uncached(counter, 1)]),
          [1001, 1001],
        );
        assert.equal(lines(counter).length, 1);
        assert.equal(await scheduler.run(wf.uncached(counter, 1)), 1001);
        assert.equal(lines(counter).length, 2);
        assert.equal(scheduler.status.count(name(wf.uncached), "DONE"), 1);
        assert.equal(scheduler.status.count(name(wf.uncached), "CACHED"), 0);
      });
    });

    it('cacheScope "cse" reruns across runs but shares within a run', async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file }) => {
        const counter = file("counter");
        assert.deepEqual(
          await scheduler.run([wf.cseOnly(counter, 1), wf.cseOnly(counter, 1)]),
          [2001, 2001],
        );
        assert.equal(lines(counter).length, 1);
        await scheduler.run(wf.cseOnly(counter, 1));
        assert.equal(lines(counter).length, 2);
      });
    });

    it('cacheScope "none" runs every call, even twice in one run', async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file }) => {
        const counter = file("counter");
        assert.deepEqual(
          await scheduler.run([wf.noScope(counter, 1), wf.noScope(counter, 1)]),
          [3001, 3001],
        );
        assert.equal(lines(counter).length, 2);
        assert.equal(scheduler.status.count(name(wf.noScope), "DONE"), 2);
        await scheduler.run(wf.noScope(counter, 1));
        assert.equal(lines(counter).length, 3);
      });
    });

    it("call-time .options({ cacheScope }) overrides the definition", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file }) => {
        const counter = file("counter");
        const cached = wf.noScope.options({ cacheScope: "backend" });
        await scheduler.run(cached(counter, 9));
        await scheduler.run(cached(counter, 9));
        assert.equal(lines(counter).length, 1);
        assert.equal(scheduler.status.count(name(wf.noScope), "CACHED"), 1);
      });
    });

    it("run(expr, { cache: false }) reruns everything but shares calls within the run", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file }) => {
        const counter = file("counter");
        await scheduler.run(wf.sumSquares(counter, [1, 2, 2]));
        assert.equal(lines(counter).length, 2);
        assert.equal(await scheduler.run(wf.sumSquares(counter, [1, 2, 2]), { cache: false }), 9);
        assert.equal(lines(counter).length, 4);
        assert.equal(scheduler.status.totals().CACHED, 0);
        assert.equal(scheduler.status.count(name(wf.sq), "DONE"), 2);
        // The next normal run is cached again.
        await scheduler.run(wf.sumSquares(counter, [1, 2, 2]));
        assert.equal(lines(counter).length, 4);
        assert.equal(scheduler.status.totals().DONE, 0);
      });
    });

    it('checkValid "shallow" replays the final value without visiting the subtree', async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, newScheduler, file }) => {
        const counter = file("counter");
        assert.equal(await scheduler.run(wf.shallowOuter(counter, 1)), 2);
        assert.deepEqual(lines(counter), ["outer 1", "inner 1"]);
        const second = newScheduler();
        assert.equal(await second.run(wf.shallowOuter(counter, 1)), 2);
        assert.equal(second.status.count(name(wf.shallowOuter), "CACHED"), 1);
        const inner = name(wf.shallowInner);
        assert.equal(second.status.count(inner, "CACHED") + second.status.count(inner, "DONE"), 0);
        assert.equal(lines(counter).length, 2);
      });
    });

    it('checkValid "full" (default) re-checks every call beneath a cached one', async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file }) => {
        const counter = file("counter");
        assert.equal(await scheduler.run(wf.fullOuter(counter, 1)), 2);
        assert.equal(await scheduler.run(wf.fullOuter(counter, 1)), 2);
        assert.equal(scheduler.status.count(name(wf.fullOuter), "CACHED"), 1);
        assert.equal(scheduler.status.count(name(wf.shallowInner), "CACHED"), 1);
        assert.equal(lines(counter).length, 2);
      });
    });

    it("configArgs are left out of the cache key", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file }) => {
        const counter = file("counter");
        assert.equal(await scheduler.run(wf.withConfig(counter, 1, 5)), 15);
        assert.equal(await scheduler.run(wf.withConfig(counter, 8, 5)), 15);
        assert.equal(scheduler.status.count(name(wf.withConfig), "CACHED"), 1);
        assert.deepEqual(lines(counter), ["withConfig 5 1"]);
        assert.equal(await scheduler.run(wf.withConfig(counter, 8, 6)), 18);
        assert.equal(scheduler.status.count(name(wf.withConfig), "DONE"), 1);
      });
    });

    it("a cached result holding an invalid registered value is a miss", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file }) => {
        const counter = file("counter");
        const tokenFile = file("token");
        const first = await scheduler.run(wf.makeToken(counter, tokenFile));
        assert.ok(first instanceof wf.Token);
        await scheduler.run(wf.makeToken(counter, tokenFile));
        assert.equal(scheduler.status.count(name(wf.makeToken), "CACHED"), 1);
        fs.rmSync(tokenFile);
        const third = await scheduler.run(wf.makeToken(counter, tokenFile));
        assert.equal(third.file, tokenFile);
        assert.equal(scheduler.status.count(name(wf.makeToken), "DONE"), 1);
        assert.equal(lines(counter).length, 2);
        assert.ok(fs.existsSync(tokenFile));
      });
    });
  }),
);

forEachDialect((dialect) =>
  describe(`[${dialect}] code changes between runs (child processes)`, () => {
    const variantRun = (
      db: TestDatabase,
      task: string,
      env: Record<string, string>,
      report = [task],
      x = 1,
    ) =>
      runInChild({
        db: db.target,
        module: "engine-variant.ts",
        task,
        args: [x],
        report,
        env: { ...db.env, ...env },
      });

    it("a changed source reruns; a pinned version replays; hashIncludes reruns", async () => {
      const dir = tempDir();
      const db = await createTestDatabase(dialect, dir);
      try {
        const a1 = await variantRun(db, "bySource", { REDUN_TEST_SOURCE: "a" });
        assert.equal(a1.result, 2);
        const a2 = await variantRun(db, "bySource", { REDUN_TEST_SOURCE: "a" });
        assert.equal(a2.counts.bySource!.CACHED, 1);
        const b = await variantRun(db, "bySource", { REDUN_TEST_SOURCE: "b" });
        assert.equal(b.result, 3);
        assert.equal(b.counts.bySource!.DONE, 1);

        const v1 = await variantRun(db, "byVersion", { REDUN_TEST_SOURCE: "a" });
        assert.equal(v1.result, 10);
        const v2 = await variantRun(db, "byVersion", { REDUN_TEST_SOURCE: "b" });
        assert.equal(v2.result, 10, "version pins the cache even though the source changed");
        assert.equal(v2.counts.byVersion!.CACHED, 1);

        const i1 = await variantRun(db, "byInclude", { REDUN_TEST_INCLUDE: "1" });
        const i2 = await variantRun(db, "byInclude", { REDUN_TEST_INCLUDE: "2" });
        assert.equal(i1.counts.byInclude!.DONE, 1);
        assert.equal(i2.counts.byInclude!.DONE, 1);
        const i3 = await variantRun(db, "byInclude", { REDUN_TEST_INCLUDE: "2" });
        assert.equal(i3.counts.byInclude!.CACHED, 1);
      } finally {
        await db.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("shallow caching is dropped when a task beneath changed; full caching re-checks it", async () => {
      const dir = tempDir();
      const db = await createTestDatabase(dialect, dir);
      try {
        const report = ["outerShallow", "outerFull", "inner"];
        const s1 = await variantRun(db, "outerShallow", { REDUN_TEST_SOURCE: "a" }, report);
        assert.equal(s1.result, 101);
        const s2 = await variantRun(db, "outerShallow", { REDUN_TEST_SOURCE: "a" }, report);
        assert.equal(s2.result, 101);
        assert.equal(s2.counts.outerShallow!.CACHED, 1);
        assert.equal(s2.counts.inner!.CACHED + s2.counts.inner!.DONE, 0);
        const s3 = await variantRun(db, "outerShallow", { REDUN_TEST_SOURCE: "b" }, report);
        assert.equal(
          s3.result,
          201,
          "the shallow cache must not replay a result computed by old code",
        );
        assert.equal(s3.counts.inner!.DONE, 1);

        const f1 = await variantRun(db, "outerFull", { REDUN_TEST_SOURCE: "a" }, report, 2);
        assert.equal(f1.result, 102);
        const f2 = await variantRun(db, "outerFull", { REDUN_TEST_SOURCE: "b" }, report, 2);
        assert.equal(f2.result, 202);
        assert.equal(
          f2.counts.outerFull!.CACHED,
          1,
          "the single reduction of outerFull is still valid",
        );
        assert.equal(f2.counts.inner!.DONE, 1);
      } finally {
        await db.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }),
);

describe("retries", () => {
  it("call-time retries rerun a failing job until it succeeds", async () => {
    await withEnv({}, async ({ scheduler, file, logs }) => {
      const counter = file("counter");
      assert.equal(await scheduler.run(wf.flaky.options({ retries: 2 })(counter, 2)), "ok after 3");
      assert.deepEqual(lines(counter), ["attempt 1", "attempt 2", "attempt 3"]);
      assert.equal(scheduler.status.count(name(wf.flaky), "DONE"), 1);
      assert.equal(scheduler.status.count(name(wf.flaky), "FAILED"), 0);
      // Lines written in one turn of the event loop come as one text.
      const logLines = logs.join("").split("\n");
      assert.equal(logLines.filter((l) => l.includes("Retrying")).length, 2);
    });
  });

  it("retries given at definition are used", async () => {
    await withEnv({}, async ({ scheduler, file }) => {
      const counter = file("counter");
      assert.equal(await scheduler.run(wf.flakyRetried(counter, 1)), "ok after 2");
      assert.equal(lines(counter).length, 2);
    });
  });

  it("when retries are exhausted the last error fails the run", async () => {
    await withEnv({}, async ({ scheduler, file }) => {
      const counter = file("counter");
      await assert.rejects(
        scheduler.run(wf.flaky.options({ retries: 1 })(counter, 3)),
        /flaky failure 2/,
      );
      assert.equal(lines(counter).length, 2);
      assert.equal(scheduler.status.count(name(wf.flaky), "FAILED"), 1);
    });
  });

  forEachDialect((dialect) => {
    it(`[${dialect}] without retries a failure is final and is not cached`, async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file }) => {
        const counter = file("counter");
        await assert.rejects(scheduler.run(wf.flaky(counter, 1)), /flaky failure 1/);
        assert.equal(lines(counter).length, 1);
        // The next run runs it again (a failure is never replayed) and now it succeeds.
        assert.equal(await scheduler.run(wf.flaky(counter, 1)), "ok after 2");
        assert.equal(scheduler.status.count(name(wf.flaky), "DONE"), 1);
      });
    });
  });
});

describe("failures", () => {
  it("an error thrown in a worker propagates with its class name, message and properties", async () => {
    await withEnv({}, async ({ scheduler }) => {
      await assert.rejects(scheduler.run(wf.boom("kaput")), (error: any) => {
        assert.equal(error.name, "BoomError");
        assert.equal(error.message, "kaput");
        assert.equal(error.code, 42);
        return true;
      });
      assert.equal(scheduler.status.count(name(wf.boom), "FAILED"), 1);
    });
  });

  it("a failed argument fails the call that needs it, which never runs", async () => {
    await withEnv({}, async ({ scheduler }) => {
      await assert.rejects(scheduler.run(wf.add(wf.boom("deep"), 1)), /deep/);
      assert.equal(scheduler.status.count(name(wf.add), "DONE"), 0);
      assert.equal(scheduler.status.count(name(wf.add), "RUNNING"), 0);
    });
  });

  forEachDialect((dialect) => {
    it(`[${dialect}] running siblings finish and are recorded; a rerun replays them and reruns only the failed job`, async () => {
      const sides = { side_a: { mode: "thread" as const }, side_b: { mode: "thread" as const } };
      await withDialectEnv(
        dialect,
        { executors: sides },
        async ({ scheduler, newScheduler, dir, file, query }) => {
          fs.writeFileSync(file("flag"), "");
          await assert.rejects(scheduler.run(wf.failMix(dir)), /failer failed on purpose/);
          assert.deepEqual(lines(file("ran")).sort(), ["failer", "slowOk a", "slowOk b"]);
          assert.equal(scheduler.status.count(name(wf.slowOk), "DONE"), 2);
          assert.equal(scheduler.status.count(name(wf.failer), "FAILED"), 1);

          const statuses = await query<{ name: string; status: string; end_time: string | null }>(
            `select task.name, job.status, job.end_time from job join task on task.hash = job.task_hash`,
          );
          const slow = statuses.filter((r) => r.name === "slowOk");
          assert.equal(slow.length, 2);
          for (const row of slow) {
            assert.equal(row.status, "DONE");
            assert.ok(row.end_time);
          }
          assert.deepEqual(
            statuses.filter((r) => r.name === "failer").map((r) => r.status),
            ["FAILED"],
          );

          fs.rmSync(file("flag"));
          const second = newScheduler();
          assert.deepEqual(await second.run(wf.failMix(dir)), ["ok a", "ok b", "failer ok"]);
          assert.equal(second.status.count(name(wf.slowOk), "CACHED"), 2);
          assert.equal(second.status.count(name(wf.failMix), "CACHED"), 1);
          assert.equal(second.status.count(name(wf.failer), "DONE"), 1);
          assert.deepEqual(lines(file("ran")).sort(), ["failer", "failer", "slowOk a", "slowOk b"]);
        },
      );
    });
  });

  it("jobs not yet started when the execution fails are not started", async () => {
    await withEnv({ maxWorkers: 1, limits: { db: 1 } }, async ({ scheduler, file }) => {
      const log = file("log");
      // boom fails while the first limited job holds the only "db" unit; the others wait.
      await assert.rejects(scheduler.run([wf.limitedMany(log, 4), wf.boom("stop")]), /stop/);
      const starts = lines(log).filter((l) => l.startsWith("start"));
      assert.ok(
        starts.length < 4,
        `expected some jobs to be cancelled, got ${starts.length} starts`,
      );
      assert.equal(lines(log).filter((l) => l.startsWith("end")).length, starts.length);
    });
  });
});

describe("limits", () => {
  it("at most `db` jobs holding the limit run at once, and all complete", async () => {
    await withEnv({ maxWorkers: 8, limits: { db: 2 } }, async ({ scheduler, file }) => {
      const log = file("log");
      const result = await scheduler.run(wf.limitedMany(log, 8));
      assert.deepEqual(result, [0, 1, 2, 3, 4, 5, 6, 7]);
      const entries = lines(log);
      assert.equal(entries.length, 16);
      assert.ok(
        maxOverlap(entries) <= 2,
        `overlap ${maxOverlap(entries)} in ${entries.join(", ")}`,
      );
      assert.equal(scheduler.status.count(name(wf.limited), "DONE"), 8);
    });
  });

  it("a job asking for the whole amount runs alone", async () => {
    await withEnv({ maxWorkers: 4, limits: { db: 2 } }, async ({ scheduler, file }) => {
      const log = file("log");
      const whole = wf.limited.options({ limits: { db: 2 } });
      const result = await scheduler.run([whole(log, 1), whole(log, 2), whole(log, 3)]);
      assert.deepEqual(result, [1, 2, 3]);
      assert.equal(maxOverlap(lines(log)), 1);
    });
  });

  it("asking for more than exists is a clear LimitError, not a deadlock", async () => {
    await withEnv({ limits: { db: 2 } }, async ({ scheduler, file }) => {
      const log = file("log");
      await assert.rejects(
        scheduler.run(wf.limited.options({ limits: { db: 3 } })(log, 1)),
        (error: unknown) => {
          assert.ok(error instanceof LimitError);
          assert.match((error as Error).message, /engine_sched\.limited/);
          assert.match((error as Error).message, /asks for 3 of limit "db", but only 2 exist/);
          return true;
        },
      );
      assert.deepEqual(lines(log), []);
    });
  });

  it("an unknown limit is a clear LimitError", async () => {
    await withEnv({ limits: { db: 2 } }, async ({ scheduler, file }) => {
      const log = file("log");
      await assert.rejects(
        scheduler.run(wf.limited.options({ limits: ["gpu"] })(log, 1)),
        (error: unknown) => {
          assert.ok(error instanceof LimitError);
          assert.match((error as Error).message, /limit "gpu", which is not defined/);
          return true;
        },
      );
      assert.deepEqual(lines(log), []);
    });
  });

  it("a task with limits fails clearly when the scheduler defines no limits", async () => {
    await withEnv({}, async ({ scheduler, file }) => {
      await assert.rejects(scheduler.run(wf.limited(file("log"), 1)), LimitError);
    });
  });
});

describe("executors", () => {
  async function runIn(dialect: DialectName, mode: "thread" | "process" | "inline") {
    let out: { result: unknown; callHashes: string[]; jobs: number } | undefined;
    await withDialectEnv(dialect, { mode }, async ({ scheduler, query }) => {
      const result = await scheduler.run(wf.pipeline(5));
      const callHashes = (
        await query<{ call_hash: string }>("select call_hash from call_node order by call_hash")
      ).map((r) => r.call_hash);
      const [jobs] = await query<{ n: number }>("select count(*) as n from job");
      out = { result, callHashes, jobs: jobs!.n };
    });
    return out!;
  }

  forEachDialect((dialect) => {
    it(`[${dialect}] thread, process and inline modes give identical results and call hashes`, async () => {
      const thread = await runIn(dialect, "thread");
      const proc = await runIn(dialect, "process");
      const inline = await runIn(dialect, "inline");
      assert.deepEqual(thread.result, { total: 20, first: 100, items: [0, 2, 4, 6, 8] });
      assert.deepEqual(proc.result, thread.result);
      assert.deepEqual(inline.result, thread.result);
      assert.equal(thread.callHashes.length, 8);
      assert.deepEqual(proc.callHashes, thread.callHashes);
      assert.deepEqual(inline.callHashes, thread.callHashes);
      assert.equal(thread.jobs, 8);
      assert.equal(proc.jobs, 8);
      assert.equal(inline.jobs, 8);
    });
  });

  it("up to max_workers jobs run at the same time", async () => {
    await withEnv({ maxWorkers: 4 }, async ({ scheduler, dir }) => {
      // Each job waits (up to 15 s) until all three have started: only true if they run together.
      assert.deepEqual(await scheduler.run(wf.barrierMany(dir, 3)), [true, true, true]);
    });
  });

  it("CPU-bound jobs waiting in numbers get a worker per CPU; tiny ones run and are recorded", async (t) => {
    if (os.availableParallelism() < 2)
      return t.skip("one CPU: the pool never grows past one worker");
    await withEnv({ maxWorkers: 8 }, async ({ scheduler }) => {
      // 200 jobs of 5 ms: a worker kept busy, a second one pays for its start.
      const heavy = (await scheduler.run(wf.threadsOf(200, 5))) as { i: number; thread: number }[];
      assert.deepEqual(
        heavy.map((r) => r.i),
        Array.from({ length: 200 }, (_, i) => i),
      );
      assert.ok(new Set(heavy.map((r) => r.thread)).size >= 2, "CPU-bound jobs used one worker");
      const tiny = (await scheduler.run(wf.threadsOf(2000, 0))) as { i: number }[];
      assert.equal(tiny.length, 2000);
      assert.equal(scheduler.status.count(name(wf.threadOf), "DONE"), 2000);
    });
  });

  it("a list of 3,000 calls, started a window of chunks at a time, completes in order", async () => {
    await withEnv({}, async ({ scheduler }) => {
      const results = (await scheduler.run(wf.threadsOf(3000, 0))) as { i: number }[];
      assert.deepEqual(
        results.map((r) => r.i),
        Array.from({ length: 3000 }, (_, i) => i),
      );
      assert.equal(scheduler.status.count(name(wf.threadOf), "DONE"), 3000);
    });
  });

  it("jobs queued on a worker behind a long one are taken back and run elsewhere", async () => {
    await withEnv({ maxWorkers: 4 }, async ({ scheduler, dir }) => {
      // After 40 tiny jobs, jobs go to workers several at a time: both barrier jobs land on
      // one worker, and the second would wait behind the first, which waits for it (15 s).
      assert.deepEqual(await scheduler.run(wf.tinyThenBarrier(dir)), [true, true]);
    });
  });

  it("tasks run where their executor says", async () => {
    await withEnv(
      { executors: { proc: { mode: "process" }, here: { mode: "inline" } } },
      async ({ scheduler }) => {
        const [thread, proc, inline] = await scheduler.run([
          wf.whereAmI("t"),
          wf.whereAmI.options({ executor: "proc" })("p"),
          wf.whereAmI.options({ executor: "here" })("i"),
        ]);
        assert.equal(thread.pid, process.pid);
        assert.equal(thread.isMainThread, false);
        assert.notEqual(proc.pid, process.pid);
        assert.equal(proc.isMainThread, true);
        assert.equal(inline.pid, process.pid);
        assert.equal(inline.isMainThread, true);
      },
    );
  });

  it("an unknown executor name fails clearly", async () => {
    await withEnv({}, async ({ scheduler }) => {
      await assert.rejects(
        scheduler.run(wf.add.options({ executor: "nowhere" })(1, 2)),
        /executor "nowhere" is not defined/,
      );
    });
  });
});

describe("scale", () => {
  it("a recursive chain of depth 300 completes", async () => {
    await withEnv({}, async ({ scheduler }) => {
      assert.equal(await scheduler.run(wf.chain(300)), 300);
      assert.equal(scheduler.status.count(name(wf.chain), "DONE"), 301);
      assert.equal(scheduler.status.count(name(wf.add), "DONE"), 300);
    });
  });

  forEachDialect((dialect) => {
    it(`[${dialect}] a fan-out of 500 tasks completes, and is fully cached the second time`, async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, query }) => {
        assert.equal(await scheduler.run(wf.fan(500)), 249500);
        assert.equal(scheduler.status.count(name(wf.double), "DONE"), 500);
        assert.equal(await scheduler.run(wf.fan(500)), 249500);
        assert.equal(scheduler.status.count(name(wf.double), "CACHED"), 500);
        assert.equal(scheduler.status.totals().DONE, 0);
        const [cached] = await query<{ n: number }>(
          "select count(*) as n from job where status = 'CACHED'",
        );
        assert.equal(cached!.n, 502);
      });
    });
  });
});

forEachDialect((dialect) =>
  describe(`[${dialect}] dry run`, () => {
    it("reports the jobs that would run and runs nothing", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file, query }) => {
        const counter = file("counter");
        await assert.rejects(
          scheduler.run([wf.sq(counter, 1), wf.sq(counter, 2)], { dryrun: true }),
          (error: unknown) => {
            assert.ok(error instanceof DryRunResult);
            assert.equal(error.wouldRun.length, 2);
            assert.ok(error.wouldRun.every((d) => d.startsWith(`${SCHED}.sq(`)));
            assert.deepEqual(error.wouldRun.map((d) => d.slice(-3)).sort(), [" 1)", " 2)"]);
            return true;
          },
        );
        assert.deepEqual(lines(counter), []);
        assert.equal((await query("select * from execution")).length, 0);
        assert.equal((await query("select * from job")).length, 0);
      });
    });

    it("after a real run, a dry run has nothing to run and returns the result", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file, query }) => {
        const counter = file("counter");
        assert.equal(await scheduler.run(wf.sumSquares(counter, [1, 2, 3])), 14);
        const executions = (await query("select * from execution")).length;
        assert.equal(await scheduler.run(wf.sumSquares(counter, [1, 2, 3]), { dryrun: true }), 14);
        assert.equal(lines(counter).length, 3);
        assert.equal((await query("select * from execution")).length, executions);
      });
    });

    it("a partially cached workflow reports only the missing jobs", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file }) => {
        const counter = file("counter");
        await scheduler.run(wf.sq(counter, 1));
        await assert.rejects(
          scheduler.run([wf.sq(counter, 1), wf.sq(counter, 5)], { dryrun: true }),
          (error: unknown) => {
            assert.ok(error instanceof DryRunResult);
            assert.equal(error.wouldRun.length, 1);
            assert.ok(error.wouldRun[0]!.endsWith(" 5)"));
            return true;
          },
        );
        assert.deepEqual(lines(counter), ["sq 1"]);
      });
    });
  }),
);
