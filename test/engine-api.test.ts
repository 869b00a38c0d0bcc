/**
 * The task API: definition and naming, task hashes, options, expressions and their hashes,
 * misuse of expressions, nout destructuring, tasks as first-class values. What reads the
 * cache runs on SQLite and on PostgreSQL.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import {
  allTasks,
  findTask,
  getTask,
  isExpression,
  isTask,
  namespace,
  Scheduler,
  SimpleExpression,
  task,
  TaskExpression,
} from "../src/index.ts";
import * as api from "./fixtures/workflows/engine-api.ts";
import * as variant from "./fixtures/workflows/engine-variant.ts";
import {
  lines,
  ROOT_DIR,
  schedulerOptions,
  SCRIPTS,
  tempDir,
  WORKFLOWS,
  withEnv,
} from "./helpers/engine.ts";
import { forEachDialect, withDialectEnv } from "./helpers/dialects.ts";

const { task: t } = namespace("engine_api_local");

interface Hashes {
  tasks: Record<string, string>;
  expressions: Record<string, string>;
}

function variantHashes(env: Record<string, string>): Hashes {
  const out = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(SCRIPTS, "print-hashes.ts"),
      path.join(WORKFLOWS, "engine-variant.ts"),
    ],
    { cwd: ROOT_DIR, env: { ...process.env, ...env }, encoding: "utf8" },
  );
  assert.equal(out.status, 0, out.stderr);
  return JSON.parse(out.stdout.trim().split("\n").pop()!) as Hashes;
}

describe("task definition", () => {
  it("takes its name from the function and its namespace from namespace()", () => {
    const foo = t(function foo(x: number) {
      return x;
    });
    assert.equal(foo.name, "foo");
    assert.equal(foo.namespace, "engine_api_local");
    assert.equal(foo.fullname, "engine_api_local.foo");
    assert.equal(String(foo), "Task(engine_api_local.foo)");
    assert.ok(isTask(foo));
    assert.equal(getTask("engine_api_local.foo"), foo);
  });

  it("the name option overrides the function's name; the namespace option overrides namespace()", () => {
    const renamed = t({ name: "renamed" }, function original() {
      return 1;
    });
    assert.equal(renamed.fullname, "engine_api_local.renamed");
    const moved = t({ namespace: "engine_api_other.deep" }, function moved() {
      return 1;
    });
    assert.equal(moved.namespace, "engine_api_other.deep");
    assert.equal(moved.fullname, "engine_api_other.deep.moved");
  });

  it("a task without namespace has its name as fullname, and a warning is printed", async () => {
    const bare = task(function engineApiBareTask() {
      return 1;
    });
    assert.equal(bare.namespace, "");
    assert.equal(bare.fullname, "engineApiBareTask");
    const logs: string[] = [];
    const dir = tempDir();
    const scheduler = new Scheduler({
      ...schedulerOptions(`${dir}/redun.db`, logs, { mode: "inline" }),
      ignoreWarnings: [],
    });
    try {
      assert.equal(await scheduler.run(bare()), 1);
    } finally {
      await scheduler.close();
    }
    assert.ok(
      logs.some((l) => l.includes('task "engineApiBareTask" has no namespace')),
      logs.join(""),
    );
  });

  it("rejects invalid task names", () => {
    for (const name of ["1abc", "a-b", "a.b", "with space", ""]) {
      assert.throws(
        () =>
          t({ name }, function valid() {
            return 1;
          }),
        name === "" ? /invalid task name|no name/ : /invalid task name/,
        name,
      );
    }
  });

  it("rejects invalid namespaces", () => {
    for (const ns of ["bad-ns", "a..b", ".a", "a.", "x y", "1a"]) {
      assert.throws(() => namespace(ns), /invalid namespace/, ns);
      assert.throws(
        () =>
          task({ namespace: ns }, function fine() {
            return 1;
          }),
        /invalid namespace/,
        ns,
      );
    }
  });

  it("an anonymous function without the name option is a clear error", () => {
    assert.throws(() => t((x: number) => x), /no name.*named function.*option `name`/s);
    assert.throws(
      () =>
        t(
          { version: "1" },
          (function () {
            return () => 1;
          })(),
        ),
      /no name/,
    );
  });

  it("a non-function is a clear error", () => {
    assert.throws(() => t({} as any, 5 as any), /expected a function/);
  });

  it("two different tasks with one fullname are an error; redefining the same source is not", () => {
    const make = () =>
      t({ name: "dup" }, function (x: number) {
        return x + 1;
      });
    const first = make();
    const second = make();
    assert.equal(first.hash, second.hash);
    assert.throws(
      () =>
        t({ name: "dup" }, function (x: number) {
          return x + 2;
        }),
      (error: Error) =>
        /two different tasks are named "engine_api_local\.dup"/.test(error.message) &&
        error.message.includes(import.meta.filename),
    );
    assert.equal(
      getTask("engine_api_local.dup")?.hash,
      first.hash,
      "the registered task is unchanged",
    );
  });

  it("records parameter names, the module it was defined in and the source", () => {
    const params = t(function params(
      a: number,
      b = 2,
      { c }: { c: number } = { c: 1 },
      ...rest: number[]
    ) {
      return a + b + c + rest.length;
    });
    assert.deepEqual(params.paramNames, ["a", "b", "arg2", "rest"]);
    assert.equal(params.modulePath, import.meta.filename);
    assert.equal(api.double.modulePath, path.join(WORKFLOWS, "engine-api.ts"));
    // The source is the function's own TypeScript, normalized (types kept); it is what is hashed.
    assert.match(params.source, /^function params \( a : number , b = 2 ,/);
    assert.match(params.source, /rest \. length/);
  });

  it("findTask finds by fullname or unambiguous short name, and reports ambiguity", () => {
    assert.equal(findTask("engine_api.pair"), api.pair);
    assert.equal(findTask("pair"), api.pair);
    t(function inc(x: number) {
      return x;
    });
    assert.throws(() => findTask("inc"), /ambiguous.*engine_api\.inc.*engine_api_local\.inc/s);
    assert.equal(findTask("no_such_task_anywhere"), undefined);
    assert.ok(allTasks().includes(api.double));
  });
});

describe("task hashes", () => {
  it("are stable across processes and follow source, version and hashIncludes only", () => {
    const a = variantHashes({ REDUN_TEST_SOURCE: "a", REDUN_TEST_INCLUDE: "1" });
    const a2 = variantHashes({ REDUN_TEST_SOURCE: "a", REDUN_TEST_INCLUDE: "1" });
    const b = variantHashes({ REDUN_TEST_SOURCE: "b", REDUN_TEST_INCLUDE: "1" });
    const i2 = variantHashes({ REDUN_TEST_SOURCE: "a", REDUN_TEST_INCLUDE: "2" });

    assert.deepEqual(a2, a, "the same code hashes the same in another process");
    // This process imported the fixture with the default variant (a, 1).
    assert.equal(variant.stable.hash, a.tasks.stable);
    assert.equal(variant.bySource.hash, a.tasks.bySource);

    assert.notEqual(b.tasks.bySource, a.tasks.bySource, "a source change changes the hash");
    assert.equal(b.tasks.byVersion, a.tasks.byVersion, "with a version, the source is not hashed");
    assert.equal(b.tasks.stable, a.tasks.stable);
    assert.equal(
      b.tasks.byOptions,
      a.tasks.byOptions,
      "options like retries and cache are not hashed",
    );
    assert.equal(i2.tasks.bySource, a.tasks.bySource);
    assert.notEqual(i2.tasks.byInclude, a.tasks.byInclude, "hashIncludes changes the hash");
  });

  it("depend on the fullname", () => {
    const x = t({ name: "hash_name_a" }, function () {
      return 1;
    });
    const y = t({ name: "hash_name_b" }, function () {
      return 1;
    });
    assert.equal(x.source, y.source);
    assert.notEqual(x.hash, y.hash);
  });

  it("a version string is part of the hash", () => {
    const v1 = t({ name: "versioned_1", version: "1" }, function () {
      return 1;
    });
    const v1b = t({ name: "versioned_1", version: "1" }, function () {
      return 1;
    });
    assert.equal(v1.hash, v1b.hash);
  });
});

describe("options", () => {
  it(".options() returns the same task with call options; the original is unchanged", () => {
    const retried = api.double.options({ retries: 3 });
    assert.ok(isTask(retried));
    assert.equal(retried.fullname, api.double.fullname);
    assert.equal(retried.hash, api.double.hash);
    assert.deepEqual(retried.taskOptions, api.double.taskOptions);
    const expr = retried(2);
    assert.deepEqual(expr.callOptions, { options: { retries: 3 } });
    assert.deepEqual(api.double(2).callOptions, {});
    const chained = retried.options({ executor: "x" }).options({ retries: 5 });
    assert.deepEqual(chained(1).callOptions.options, { retries: 5, executor: "x" });
  });

  it(".exportOptions() attaches options for the call and every call beneath it", () => {
    const exported = api.parent.exportOptions({ cache: false }).options({ retries: 1 });
    const expr = exported("c", 1);
    assert.deepEqual(expr.callOptions, {
      exportOptions: { cache: false },
      options: { retries: 1 },
    });
  });

  forEachDialect((dialect) => {
    it(`[${dialect}] .options({ cache: false }) reruns only that call; .exportOptions reruns the calls beneath too`, async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, file }) => {
        const counter = file("counter");
        await scheduler.run(api.parent(counter, 1));
        assert.deepEqual(lines(counter), ["parent 1", "child 1"]);

        assert.equal(await scheduler.run(api.parent.options({ cache: false })(counter, 1)), 2);
        assert.deepEqual(lines(counter).slice(2), ["parent 1"]);
        assert.equal(scheduler.status.count(api.child.fullname, "CACHED"), 1);

        assert.equal(
          await scheduler.run(api.parent.exportOptions({ cache: false })(counter, 1)),
          2,
        );
        assert.deepEqual(lines(counter).slice(3), ["parent 1", "child 1"]);
        assert.equal(scheduler.status.count(api.child.fullname, "DONE"), 1);
      });
    });
  });

  it("exported options reach children; plain call options do not", async () => {
    await withEnv({ executors: { here: { mode: "inline" } } }, async ({ scheduler }) => {
      const exported = await scheduler.run(
        api.whereParent.exportOptions({ executor: "here" })("e"),
      );
      assert.equal(exported.self.isMainThread, true);
      assert.equal(exported.child.isMainThread, true);
      const plain = await scheduler.run(api.whereParent.options({ executor: "here" })("p"));
      assert.equal(plain.self.isMainThread, true);
      assert.equal(
        plain.child.isMainThread,
        false,
        "the child runs on the default (thread) executor",
      );
    });
  });

  it("run options apply to the root call", async () => {
    await withEnv({ executors: { here: { mode: "inline" } } }, async ({ scheduler }) => {
      const result = await scheduler.run(api.whereChild("root"), { options: { executor: "here" } });
      assert.equal(result.isMainThread, true);
      assert.equal(result.pid, process.pid);
    });
  });
});

describe("expressions", () => {
  it("calling a task returns a lazy TaskExpression and runs nothing", () => {
    let ran = false;
    const lazy = t(function lazy() {
      ran = true;
      return 1;
    });
    const expr = lazy();
    assert.ok(expr instanceof TaskExpression);
    assert.ok(isExpression(expr));
    assert.equal(expr.task, lazy);
    assert.equal(ran, false);
  });

  it("have stable hashes: equal calls hash equally, different calls differently", () => {
    assert.equal(api.double(2).hash, api.double(2).hash);
    assert.notEqual(api.double(2).hash, api.double(3).hash);
    assert.notEqual(api.double(2).hash, api.inc(2).hash);
    assert.equal(api.applyTask(api.double, 1).hash, api.applyTask(api.double, 1).hash);
    assert.notEqual(api.applyTask(api.double, 1).hash, api.applyTask(api.inc, 1).hash);
    assert.equal(
      variant.stable({ a: api.double(1), b: [1, 2] } as any).hash,
      variant.stable({ b: [1, 2], a: api.double(1) } as any).hash,
      "argument key order is irrelevant",
    );
    assert.notEqual(api.double(api.inc(1)).hash, api.double(api.inc(2)).hash);
    assert.equal(api.pair(1).get(0).hash, api.pair(1).get(0).hash);
    assert.notEqual(api.pair(1).get(0).hash, api.pair(1).get(1).hash);
    assert.match(api.double(2).hash, /^[0-9a-f]{40}$/);
  });

  it("have the same hash in another process", () => {
    const other = variantHashes({});
    assert.equal(variant.stable(5).hash, other.expressions.stable5);
    assert.equal(
      variant.stable({ b: [1, 2], a: variant.stable(1) } as any).hash,
      other.expressions.nested,
    );
  });

  it("describe themselves", () => {
    assert.equal(api.double(api.inc(1)).describe(), "engine_api.double(engine_api.inc(1))");
    assert.equal(api.pair(1).get(0).describe(), "engine_api.pair(1)[0]");
  });

  it("used as a primitive value throw a clear error", () => {
    const expr = api.double(1);
    assert.throws(
      () => (expr as any) + 1,
      /Cannot use engine_api\.double\(1\) as a primitive value.*lazy/s,
    );
    assert.throws(() => `${expr}`, /as a primitive value/);
    assert.throws(() => String(expr), /as a primitive value/);
    assert.throws(() => (expr as any) > 1, /as a primitive value/);
    assert.throws(
      () => JSON.stringify({ x: expr }),
      /Cannot convert engine_api\.double\(1\) to JSON/,
    );
  });

  it("are not thenables: await gives back the expression instead of hanging", async () => {
    const expr = api.double(1);
    assert.equal("then" in expr, false);
    assert.equal(await (expr as unknown), expr);
  });

  it(".get() builds a lazy SimpleExpression", () => {
    const got = api.pair(1).get(1);
    assert.ok(got instanceof SimpleExpression);
    assert.equal(got.op, "getitem");
  });
});

describe("nout destructuring", () => {
  it("a task with nout can be destructured into lazy elements", async () => {
    await withEnv({}, async ({ scheduler }) => {
      const [a, b] = api.pair(3);
      assert.ok(a instanceof SimpleExpression);
      assert.deepEqual(await scheduler.run([b, a, api.double(b)]), [30, 3, 60]);
      assert.equal(
        scheduler.status.count(api.pair.fullname, "DONE"),
        1,
        "both elements share one call",
      );
    });
  });

  it("nout may be given per call", async () => {
    await withEnv({}, async ({ scheduler }) => {
      const [x, y, z] = api.triple.options({ nout: 3 })(1);
      assert.deepEqual(await scheduler.run([z, y, x]), [3, 2, 1]);
    });
  });

  it("destructuring without nout is a clear error", () => {
    assert.throws(() => {
      const [first] = api.triple(1) as any;
      return first;
    }, /Cannot iterate over engine_api\.triple\(1\): give task "engine_api\.triple" the option `nout`/);
  });
});

describe("tasks as first-class values", () => {
  it("a task passed as an argument is called inside another task (on a worker)", async () => {
    await withEnv({}, async ({ scheduler }) => {
      assert.equal(await scheduler.run(api.applyTask(api.double, 4)), 8);
      assert.equal(await scheduler.run(api.applyTask(api.inc, 4)), 5);
      assert.deepEqual(await scheduler.run(api.applyAll([api.double, api.inc], 10)), [20, 11]);
      assert.equal(scheduler.status.count(api.double.fullname, "DONE"), 1);
    });
  });

  forEachDialect((dialect) => {
    it(`[${dialect}] a task returned as a value comes back as the same task`, async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, newScheduler }) => {
        const got = await scheduler.run(api.pickTask("double"));
        assert.equal(got, api.double);
        const second = newScheduler();
        const replayed = await second.run(api.pickTask("double"));
        assert.equal(replayed, api.double);
        assert.equal(second.status.count(api.pickTask.fullname, "CACHED"), 1, "from the cache");
      });
    });
  });

  it("a task passed as a value keeps its call options", async () => {
    await withEnv({ executors: { here: { mode: "inline" } } }, async ({ scheduler }) => {
      const result = (await scheduler.run(
        api.callWith(api.whereChild.options({ executor: "here" }), "x"),
      )) as {
        isMainThread: boolean;
      };
      assert.equal(result.isMainThread, true, "whereChild should have run on the inline executor");
    });
  });

  it("tasks defined in a test file run on an inline executor", async () => {
    const local = t(function localSquare(x: number) {
      return x * x;
    });
    await withEnv({ mode: "inline" }, async ({ scheduler }) => {
      assert.equal(await scheduler.run(local(local(2))), 16);
    });
  });
});
