/**
 * Provenance recorded in the backend, on SQLite and on PostgreSQL: tasks, values,
 * evaluations, the call graph, arguments, executions and jobs; schema version; concurrent
 * schedulers on one database; failed jobs.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { hashValue, Scheduler, TaskExpression } from "../src/index.ts";
import { LATEST_VERSION } from "../src/backend/migrations/all-migrations.ts";
import type { JobTable } from "../src/backend/schema.ts";
import { deserializeValue } from "../src/values/serialize.ts";
import * as wf from "./fixtures/workflows/engine-backend.ts";
import { runInChild, schedulerOptions, tempDir } from "./helpers/engine.ts";
import {
  createTestDatabase,
  forEachDialect,
  withDialectEnv,
  type TestDatabase,
} from "./helpers/dialects.ts";

interface CallNode {
  call_hash: string;
  task_name: string;
  task_hash: string;
  args_hash: string;
  eval_hash: string;
  value_hash: string;
  timestamp: string;
}
type JobRow = JobTable;

forEachDialect((dialect) =>
  describe(`[${dialect}] provenance of a run`, () => {
    const dir = tempDir();
    const logs: string[] = [];
    let db: TestDatabase;
    const q = <T = Record<string, any>>(sql: string, ...params: unknown[]) =>
      db.query<T>(sql, ...params);
    let result: unknown;
    let replayed: unknown;
    const executions = { first: "exec-first", second: "exec-second" };
    /** call_node rows of the first run by a readable name. */
    const calls: Record<"main" | "outerAdd" | "innerAdd" | "double", CallNode> = {} as any;
    const open = () =>
      new Scheduler({
        ...schedulerOptions(`${dir}/redun.db`, logs),
        backendOptions: db.backendOptions,
      });

    before(async () => {
      db = await createTestDatabase(dialect, dir);
      const first = open();
      try {
        result = await first.run(wf.main(1), {
          executionId: executions.first,
          description: ["run", "main", "--x", "1"],
        });
      } finally {
        await first.close();
      }
      const nodes = await q<CallNode>("select * from call_node");
      const byTask = (name: string) =>
        nodes.filter((n) => n.task_name === `engine_backend.${name}`);
      calls.main = byTask("main")[0]!;
      calls.double = byTask("double")[0]!;
      calls.outerAdd = byTask("add").find((n) => n.value_hash === hashValue(9))!;
      calls.innerAdd = byTask("add").find((n) => n.value_hash === hashValue(3))!;
      const second = open();
      try {
        replayed = await second.run(wf.main(1), { executionId: executions.second });
      } finally {
        await second.close();
      }
    });

    after(async () => {
      await db?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it("returns the result and replays it", async () => {
      assert.equal(result, 9);
      assert.equal(replayed, 9);
    });

    it("records the schema version", async () => {
      const rows = await q<{ version: number }>("select version from redun_version");
      assert.ok(rows.length >= 1);
      assert.ok(rows.some((r) => Number(r.version) === LATEST_VERSION));
    });

    it("records each task with its hash, names and source", async () => {
      const rows = await q<{
        hash: string;
        name: string;
        namespace: string;
        fullname: string;
        source: string;
      }>("select * from task order by name");
      assert.deepEqual(
        rows.map((r) => r.fullname),
        ["engine_backend.add", "engine_backend.double", "engine_backend.main"],
      );
      for (const [row, t] of [
        [rows[0]!, wf.add],
        [rows[1]!, wf.double],
        [rows[2]!, wf.main],
      ] as const) {
        assert.equal(row.hash, t.hash);
        assert.equal(row.name, t.name);
        assert.equal(row.namespace, "engine_backend");
        assert.equal(row.source, t.source);
      }
    });

    it("records one call_node per call, with its task, eval hash and result", async () => {
      assert.equal((await q("select * from call_node")).length, 4);
      for (const c of Object.values(calls)) assert.ok(c, "every expected call is recorded");
      assert.equal(calls.main.task_hash, wf.main.hash);
      assert.equal(calls.main.value_hash, hashValue(9));
      assert.equal(calls.double.value_hash, hashValue(6));
      assert.equal(calls.outerAdd.args_hash === calls.innerAdd.args_hash, false);
      assert.equal(new Set(Object.values(calls).map((c) => c.eval_hash)).size, 4);
    });

    it("records values by hash, with their type, decodable", async () => {
      const value = async (hash: string) =>
        (
          await q<{ type: string; format: string; value: Buffer }>(
            "select * from value where value_hash = ?",
            hash,
          )
        )[0];
      for (const [v, type] of [
        [9, "number"],
        [3, "number"],
        [6, "number"],
        [1, "number"],
        [2, "number"],
      ] as const) {
        const row = await value(hashValue(v));
        assert.ok(row, `value ${v} is recorded`);
        assert.equal(row.type, type);
        assert.equal(deserializeValue(row.value), v);
      }
    });

    it("records the single reduction of each call in evaluation", async () => {
      const rows = await q<{
        eval_hash: string;
        task_hash: string;
        args_hash: string;
        value_hash: string;
      }>("select * from evaluation");
      assert.equal(rows.length, 4);
      assert.deepEqual(
        new Set(rows.map((r) => r.eval_hash)),
        new Set(Object.values(calls).map((c) => c.eval_hash)),
      );
      const mainEval = rows.find((r) => r.eval_hash === calls.main.eval_hash)!;
      assert.equal(mainEval.task_hash, wf.main.hash);
      // main's single reduction is the expression it returned, not its final value.
      const [stored] = await q<{ type: string; value: Buffer }>(
        "select * from value where value_hash = ?",
        mainEval.value_hash,
      );
      const expr = deserializeValue(stored!.value);
      assert.ok(expr instanceof TaskExpression);
      assert.equal(expr.task, wf.add);
      assert.equal(expr.hash, wf.add(wf.add(1, 2), wf.double(3)).hash);
      const doubleEval = rows.find((r) => r.eval_hash === calls.double.eval_hash)!;
      assert.equal(doubleEval.value_hash, hashValue(6));
    });

    it("links a call to the calls beneath it in call_edge, in order", async () => {
      const edges = await q<{ parent_id: string; child_id: string; call_order: number }>(
        "select * from call_edge order by call_order",
      );
      const fromMain = edges.filter((e) => e.parent_id === calls.main.call_hash);
      assert.deepEqual(
        fromMain.map((e) => e.call_order),
        [0, 1, 2],
      );
      assert.deepEqual(
        new Set(fromMain.map((e) => e.child_id)),
        new Set([calls.outerAdd.call_hash, calls.innerAdd.call_hash, calls.double.call_hash]),
      );
      assert.equal(edges.length, 3, "leaf calls have no children");
    });

    it("records the tasks of each call's subtree in call_subtree_task", async () => {
      const subtree = async (call: CallNode) =>
        new Set(
          (
            await q<{ task_hash: string }>(
              "select task_hash from call_subtree_task where call_hash = ?",
              call.call_hash,
            )
          ).map((r) => r.task_hash),
        );
      assert.deepEqual(
        await subtree(calls.main),
        new Set([wf.main.hash, wf.add.hash, wf.double.hash]),
      );
      assert.deepEqual(await subtree(calls.double), new Set([wf.double.hash]));
      assert.deepEqual(await subtree(calls.outerAdd), new Set([wf.add.hash]));
    });

    it("records arguments by position and name", async () => {
      const args = (call: CallNode) =>
        q<{ arg_hash: string; value_hash: string; arg_position: number; arg_key: string }>(
          "select * from argument where call_hash = ? order by arg_position",
          call.call_hash,
        );
      const outer = await args(calls.outerAdd);
      assert.deepEqual(
        outer.map((a) => [a.arg_position, a.arg_key, a.value_hash]),
        [
          [0, "a", hashValue(3)],
          [1, "b", hashValue(6)],
        ],
      );
      assert.deepEqual(
        (await args(calls.main)).map((a) => [a.arg_position, a.arg_key, a.value_hash]),
        [[0, "x", hashValue(1)]],
      );
    });

    it("links an argument produced by another task to that call in argument_result", async () => {
      const resultsOf = (call: CallNode) =>
        q<{ arg_position: number; result_call_hash: string }>(
          `select argument.arg_position, argument_result.result_call_hash
         from argument join argument_result on argument_result.arg_hash = argument.arg_hash
         where argument.call_hash = ? order by argument.arg_position`,
          call.call_hash,
        );
      assert.deepEqual(await resultsOf(calls.outerAdd), [
        { arg_position: 0, result_call_hash: calls.innerAdd.call_hash },
        { arg_position: 1, result_call_hash: calls.double.call_hash },
      ]);
      assert.deepEqual(await resultsOf(calls.innerAdd), [], "plain arguments come from no call");
      assert.deepEqual(await resultsOf(calls.main), []);
    });

    it("records the execution with its arguments and its root job", async () => {
      const rows = await q<{ id: string; args: string; job_id: string; updated_time: string }>(
        "select * from execution where id = ?",
        executions.first,
      );
      assert.equal(rows.length, 1);
      assert.deepEqual(JSON.parse(rows[0]!.args), ["run", "main", "--x", "1"]);
      const [root] = await q<JobRow>("select * from job where id = ?", rows[0]!.job_id);
      assert.ok(root, "job_id names a job");
      assert.equal(root.parent_id, null);
      assert.equal(root.task_hash, wf.main.hash);
      assert.equal(root.execution_id, executions.first);
      assert.equal(root.call_hash, calls.main.call_hash);
      assert.ok(!Number.isNaN(Date.parse(rows[0]!.updated_time)));
    });

    it("records every job of the first run as DONE, linked to its parent", async () => {
      const jobs = await q<JobRow>("select * from job where execution_id = ?", executions.first);
      assert.equal(jobs.length, 4);
      const root = jobs.find((j) => j.parent_id === null)!;
      assert.equal(root.task_hash, wf.main.hash);
      for (const job of jobs) {
        assert.equal(job.status, "DONE");
        assert.equal(job.cached, 0);
        assert.ok(job.end_time && job.end_time >= job.start_time);
        assert.ok(job.call_hash);
        assert.equal(
          (await q("select 1 from call_node where call_hash = ?", job.call_hash)).length,
          1,
        );
        if (job !== root) assert.equal(job.parent_id, root.id);
      }
      assert.deepEqual(
        new Set(jobs.map((j) => j.call_hash)),
        new Set(Object.values(calls).map((c) => c.call_hash)),
      );
    });

    it("records replayed jobs as CACHED with the same calls", async () => {
      const jobs = await q<JobRow>("select * from job where execution_id = ?", executions.second);
      assert.equal(jobs.length, 4);
      for (const job of jobs) {
        assert.equal(job.status, "CACHED");
        assert.equal(job.cached, 1);
      }
      assert.deepEqual(
        new Set(jobs.map((j) => j.call_hash)),
        new Set(Object.values(calls).map((c) => c.call_hash)),
      );
      assert.equal((await q("select * from call_node")).length, 4, "no new calls");
      const [root] = await q<{ job_id: string }>(
        "select job_id from execution where id = ?",
        executions.second,
      );
      assert.equal(jobs.find((j) => j.parent_id === null)!.id, root!.job_id);
      assert.equal((await q("select * from execution")).length, 2);
    });
  }),
);

/** A child process's `db` and environment for a test database. */
const child = (db: TestDatabase) => ({ db: db.target, env: db.env });

forEachDialect((dialect) => {
  describe(`[${dialect}] failed jobs`, () => {
    it("are recorded as FAILED with their error value and no evaluation", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, query }) => {
        await assert.rejects(
          scheduler.run(wf.partlyFails("kaboom"), { executionId: "exec-fail" }),
          /kaboom/,
        );
        const jobs = await query<JobRow & { name: string }>(
          "select job.*, task.name from job join task on task.hash = job.task_hash where execution_id = 'exec-fail'",
        );
        const byName = (name: string) => jobs.filter((j) => j.name === name);
        const failed = byName("explode")[0]!;
        assert.equal(failed.status, "FAILED");
        assert.ok(failed.end_time);
        assert.ok(failed.call_hash);
        assert.equal(byName("add")[0]!.status, "DONE", "the sibling finished and is recorded");
        assert.equal(
          byName("partlyFails")[0]!.status,
          "FAILED",
          "the failure fails the parent job",
        );

        const [node] = await query<CallNode>(
          "select * from call_node where call_hash = ?",
          failed.call_hash,
        );
        assert.ok(node, "the failed call is recorded");
        const [value] = await query<{ type: string; value: Buffer }>(
          "select * from value where value_hash = ?",
          node.value_hash,
        );
        const error = deserializeValue(value!.value) as Error;
        assert.equal(error.message, "kaboom");
        assert.equal(error.name, "ExplodeError");
        assert.equal(
          (await query("select * from evaluation where eval_hash = ?", node.eval_hash)).length,
          0,
        );

        const [execution] = await query<{ job_id: string }>(
          "select * from execution where id = 'exec-fail'",
        );
        assert.equal(execution!.job_id, byName("partlyFails")[0]!.id);
      });
    });

    it("are not replayed: the next run runs the failed call again", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler }) => {
        await assert.rejects(scheduler.run(wf.explode("again")), /again/);
        await assert.rejects(scheduler.run(wf.explode("again")), /again/);
        assert.equal(scheduler.status.count(wf.explode.fullname, "FAILED"), 1);
        assert.equal(scheduler.status.count(wf.explode.fullname, "CACHED"), 0);
      });
    });
  });

  describe(`[${dialect}] call graph details`, () => {
    it("a call shared by two parents (CSE) is a child of both", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, query }) => {
        assert.deepEqual(await scheduler.run([wf.parentA(4), wf.parentB(4)]), [8, 8]);
        const nodes = await query<CallNode>("select * from call_node");
        const child = nodes.find((n) => n.task_name === "engine_backend.double")!;
        const parents = await query<{ parent_id: string }>(
          "select parent_id from call_edge where child_id = ?",
          child.call_hash,
        );
        assert.deepEqual(
          new Set(parents.map((p) => p.parent_id)),
          new Set(
            nodes
              .filter((n) => !["engine_backend.double", "redun.root_task"].includes(n.task_name))
              .map((n) => n.call_hash),
          ),
        );
      });
    });

    it("two tasks returning the same lazy expression both record the call beneath it", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, query }) => {
        assert.deepEqual(await scheduler.run([wf.getterA(1), wf.getterB(1)]), [1, 1]);
        const nodes = await query<CallNode>("select * from call_node");
        const objCall = nodes.find((n) => n.task_name === "engine_backend.obj")!;
        for (const name of ["getterA", "getterB"]) {
          const parent = nodes.find((n) => n.task_name === `engine_backend.${name}`)!;
          const edges = await query(
            "select * from call_edge where parent_id = ? and child_id = ?",
            parent.call_hash,
            objCall.call_hash,
          );
          assert.equal(edges.length, 1, `${name} -> obj`);
          const subtree = await query(
            "select * from call_subtree_task where call_hash = ? and task_hash = ?",
            parent.call_hash,
            wf.obj.hash,
          );
          assert.equal(subtree.length, 1, `obj is in ${name}'s subtree`);
        }
      });
    });
  });

  describe(`[${dialect}] concurrent schedulers on one database`, () => {
    it("two processes running at once both succeed and both executions are recorded", async () => {
      const dir = tempDir();
      const db = await createTestDatabase(dialect, dir);
      try {
        const [a, b] = await Promise.all([
          runInChild({
            ...child(db),
            module: "engine-backend.ts",
            task: "work",
            args: ["a", 40],
            report: ["slowItem"],
          }),
          runInChild({
            ...child(db),
            module: "engine-backend.ts",
            task: "work",
            args: ["b", 40],
            report: ["slowItem"],
          }),
        ]);
        assert.equal(a.ok, true, JSON.stringify(a.error));
        assert.equal(b.ok, true, JSON.stringify(b.error));
        assert.deepEqual(
          a.result,
          Array.from({ length: 40 }, (_, i) => `a-${i}`),
        );
        assert.deepEqual(
          b.result,
          Array.from({ length: 40 }, (_, i) => `b-${i}`),
        );
        const executions = await db.query<{ id: string; job_id: string }>(
          "select * from execution",
        );
        assert.deepEqual(
          new Set(executions.map((e) => e.id)),
          new Set([a.executionId, b.executionId]),
        );
        for (const id of [a.executionId, b.executionId]) {
          const jobs = await db.query<JobRow>("select * from job where execution_id = ?", id);
          assert.equal(jobs.length, 41);
          assert.ok(jobs.every((j) => j.status === "DONE"));
        }
        const [calls] = await db.query<{ n: number }>("select count(*) as n from call_node");
        assert.equal(calls!.n, 82);
        if (dialect === "sqlite") {
          assert.deepEqual(await db.query("pragma integrity_check"), [{ integrity_check: "ok" }]);
        }
      } finally {
        await db.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("two schedulers in one process running at once on an existing database both succeed", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, newScheduler, query }) => {
        await scheduler.run(wf.add(0, 0)); // creates the schema
        const other = newScheduler();
        const [a, b] = await Promise.all([
          scheduler.run(wf.work("x", 30), { executionId: "exec-x" }),
          other.run(wf.work("y", 30), { executionId: "exec-y" }),
        ]);
        assert.equal(a.length, 30);
        assert.equal(b[29], "y-29");
        assert.equal((await query("select * from execution")).length, 3);
        assert.equal((await query("select * from job where execution_id = 'exec-x'")).length, 31);
        assert.equal((await query("select * from job where execution_id = 'exec-y'")).length, 31);
      });
    });

    it("two schedulers in one process starting at once on a new database both succeed", async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, newScheduler, query }) => {
        const other = newScheduler();
        const [a, b] = await Promise.all([
          scheduler.run(wf.work("x", 3), { executionId: "exec-x" }),
          other.run(wf.work("y", 3), { executionId: "exec-y" }),
        ]);
        assert.deepEqual(a, ["x-0", "x-1", "x-2"]);
        assert.deepEqual(b, ["y-0", "y-1", "y-2"]);
        assert.equal((await query("select * from execution")).length, 2);
      });
    });

    it("a second process replays what the first recorded", async () => {
      const dir = tempDir();
      const db = await createTestDatabase(dialect, dir);
      try {
        const first = await runInChild({
          ...child(db),
          module: "engine-backend.ts",
          task: "main",
          args: [5],
          report: ["main", "add"],
        });
        assert.equal(first.ok, true, JSON.stringify(first.error));
        assert.equal(first.result, 13);
        assert.equal(first.counts.add!.DONE, 2);
        const second = await runInChild({
          ...child(db),
          module: "engine-backend.ts",
          task: "main",
          args: [5],
          report: ["main", "add"],
        });
        assert.equal(second.result, 13);
        assert.equal(second.counts.main!.CACHED, 1);
        assert.equal(second.counts.add!.CACHED, 2);
        assert.equal(second.totals.DONE, 0);
      } finally {
        await db.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
