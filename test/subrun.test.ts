/**
 * subrun on the local executors: a fan-out evaluated by a sub-scheduler inside a worker
 * process, recorded as one provenance tree in the caller's SQLite file (or PostgreSQL), a
 * rerun replayed from the cache without running anything, `newExecution`, a failing inner
 * task, context passing through, and records travelling back from a sub-scheduler that
 * could not reach the caller's database (an in-memory one).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import { Config, Scheduler } from "redun";
import * as flow from "./fixtures/workflows/subrun-flow.ts";
import { queryDb, tempDir } from "./helpers/engine.ts";
import { createTestDatabase, backendIni } from "./helpers/dialects.ts";

const INI = (backend: string) =>
  [
    backend,
    "[scheduler]",
    "job_status_interval = 0",
    "ignore_warnings = namespace",
    "[executors.procs]",
    "type = local",
    "mode = process",
    "max_workers = 2",
    "",
  ].join("\n");

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A scheduler on a SQLite file in a fresh directory, with a `procs` process executor. */
function sqliteScheduler(dir: string, logs: string[]): Scheduler {
  const config = Config.fromString(INI("[backend]\ndb_uri = sqlite:///redun.db"), {
    configDir: path.join(dir, ".redun"),
  });
  return new Scheduler({ config, log: (t) => logs.push(t) });
}

function lines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

interface JobRow {
  id: string;
  parent_id: string | null;
  execution_id: string;
  task_name: string;
  cached: number;
  status: string;
}

const JOBS =
  "SELECT j.id, j.parent_id, j.execution_id, t.namespace || '.' || t.name AS task_name, j.cached, j.status " +
  "FROM job j JOIN task t ON t.hash = j.task_hash";

describe("subrun on the local process executor (SQLite file)", () => {
  const dir = tempDir();
  dirs.push(dir);
  const db = path.join(dir, ".redun", "redun.db");
  const runs = path.join(dir, "runs.log");

  test("the sub-scheduler runs the fan-out in the job; one execution, one tree", async () => {
    const logs: string[] = [];
    const scheduler = sqliteScheduler(dir, logs);
    try {
      const result = await scheduler.run(flow.main(4, "procs", runs), { executionId: "exec-1" });
      assert.equal(result, 30);
    } finally {
      await scheduler.close();
    }
    const ran = lines(runs);
    assert.equal(ran.filter((l) => l.startsWith("square")).length, 4);
    assert.ok(
      ran.every((l) => !l.endsWith(`pid=${process.pid}`)),
      "inner tasks ran in the job",
    );
    const jobs = queryDb<JobRow>(db, JOBS);
    assert.ok(
      jobs.every((j) => j.execution_id === "exec-1"),
      JSON.stringify(jobs),
    );
    const sub = jobs.find((j) => j.task_name === "redun.subrun")!;
    const inner = jobs.find((j) => j.task_name === "subrun_flow.sumSquares")!;
    const main = jobs.find((j) => j.task_name === "subrun_flow.main")!;
    assert.equal(sub.parent_id, main.id);
    assert.equal(inner.parent_id, sub.id, "the inner root is a child of the subrun job");
    assert.equal(jobs.filter((j) => j.task_name === "subrun_flow.square").length, 4);
    const executions = queryDb<{ id: string; job_id: string }>(
      db,
      "SELECT id, job_id FROM execution",
    );
    assert.deepEqual(executions, [{ id: "exec-1", job_id: main.id }]);
    assert.match(logs.join(""), /Sub-scheduler report \(redun\.subrun on executor "procs"/);
    assert.match(logs.join(""), /subrun_flow\.square\s+0\s+0\s+0\s+0\s+4\s+4/);
  });

  test("a rerun replays the subrun from the cache and runs nothing", async () => {
    const before = lines(runs).length;
    const scheduler = sqliteScheduler(dir, []);
    try {
      assert.equal(await scheduler.run(flow.main(4, "procs", runs), { executionId: "exec-2" }), 30);
    } finally {
      await scheduler.close();
    }
    assert.equal(lines(runs).length, before, "no task body ran again");
    const jobs = queryDb<JobRow>(db, `${JOBS} WHERE j.execution_id = 'exec-2'`);
    assert.deepEqual(jobs.map((j) => [j.task_name, j.cached]).sort(), [
      ["redun.subrun", 1],
      ["subrun_flow.main", 1],
    ]);
  });

  test("--no-cache passes through: the inner tasks run again", async () => {
    const before = lines(runs).filter((l) => l.startsWith("square")).length;
    const scheduler = sqliteScheduler(dir, []);
    try {
      assert.equal(await scheduler.run(flow.main(4, "procs", runs), { cache: false }), 30);
    } finally {
      await scheduler.close();
    }
    assert.equal(lines(runs).filter((l) => l.startsWith("square")).length, before + 4);
  });

  test("newExecution: the sub-scheduler records an execution of its own", async () => {
    const scheduler = sqliteScheduler(dir, []);
    try {
      assert.equal(await scheduler.run(flow.mainNew(3, "procs"), { executionId: "exec-new" }), 14);
    } finally {
      await scheduler.close();
    }
    const inner = queryDb<JobRow>(
      db,
      `${JOBS} WHERE t.name = 'sumSquares' AND j.execution_id != 'exec-new'`,
    );
    const own = inner.filter((j) => !["exec-1", "exec-2"].includes(j.execution_id));
    assert.ok(own.length >= 1, JSON.stringify(inner));
    const innerRoot = own.find((j) => j.parent_id === null);
    assert.ok(innerRoot, "the inner root has no parent in its own execution");
    const row = queryDb<{ job_id: string }>(
      db,
      "SELECT job_id FROM execution WHERE id = ?",
      innerRoot!.execution_id,
    );
    assert.deepEqual(row, [{ job_id: innerRoot!.id }]);
  });

  test("a failing inner task fails the caller with its error and traceback, recorded", async () => {
    const scheduler = sqliteScheduler(dir, []);
    try {
      await assert.rejects(
        scheduler.run(flow.mainFails("procs"), { executionId: "exec-fail" }),
        (error: Error) => {
          assert.equal(error.name, "InnerFailure");
          assert.ok(error instanceof flow.InnerFailure, "the class travels back");
          assert.match(error.message, /inner task failed on 7/);
          assert.match(error.stack ?? "", /subrun-flow\.ts/);
          return true;
        },
      );
    } finally {
      await scheduler.close();
    }
    const jobs = queryDb<JobRow>(db, `${JOBS} WHERE j.execution_id = 'exec-fail'`);
    const failed = jobs.find((j) => j.task_name === "subrun_flow.fails");
    assert.equal(failed?.status, "FAILED");
    assert.equal(jobs.find((j) => j.task_name === "redun.subrun")?.status, "FAILED");
  });

  test("the caller's context reaches the sub-scheduler", async () => {
    const scheduler = sqliteScheduler(dir, []);
    try {
      const result = await scheduler.run(flow.mainContext("procs"), {
        context: { sub: { tag: "from-caller" } },
      });
      assert.equal(result, "tag=from-caller");
    } finally {
      await scheduler.close();
    }
  });
});

describe("subrun records travelling back", () => {
  test("a sub-scheduler that cannot reach the caller's database sends its records back", async () => {
    // An in-memory caller database: no job can reach it.
    const logs: string[] = [];
    const scheduler = new Scheduler({
      config: Config.fromString(INI("[backend]\ndb_uri = sqlite:///:memory:"), {
        configDir: path.join(tempDir(), ".redun"),
      }),
      log: (t) => logs.push(t),
    });
    try {
      assert.equal(await scheduler.run(flow.main(3, "procs"), { executionId: "mem-1" }), 14);
      const backend = await scheduler.backend();
      const jobs = (await backend.db
        .selectFrom("job")
        .innerJoin("task", "task.hash", "job.task_hash")
        .select(["job.id", "job.parent_id", "job.execution_id", "task.name"])
        .execute()) as {
        id: string;
        parent_id: string | null;
        execution_id: string;
        name: string;
      }[];
      assert.equal(jobs.filter((j) => j.name === "square").length, 3);
      assert.ok(jobs.every((j) => j.execution_id === "mem-1"));
      const sub = jobs.find((j) => j.name === "subrun")!;
      assert.equal(jobs.find((j) => j.name === "sumSquares")?.parent_id, sub.id);
      const executions = await backend.db.selectFrom("execution").selectAll().execute();
      assert.equal(executions.length, 1, "the caller's execution row stays the only one");
      assert.match(logs.join(""), /records imported/);
      // Rerun in the same scheduler and database: the imported records make it a cache hit.
      assert.equal(await scheduler.run(flow.main(3, "procs"), { executionId: "mem-2" }), 14);
      const again = await backend.db
        .selectFrom("job")
        .select(["cached"])
        .where("execution_id", "=", "mem-2")
        .execute();
      assert.ok(again.length === 2 && again.every((j) => j.cached === 1), JSON.stringify(again));
    } finally {
      await scheduler.close();
    }
  });
});

describe("subrun on PostgreSQL", () => {
  test("the sub-scheduler writes to the caller's PostgreSQL database itself", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const db = await createTestDatabase("postgresql", dir);
    const saved = { ...process.env };
    Object.assign(process.env, db.env);
    const logs: string[] = [];
    const scheduler = new Scheduler({
      config: Config.fromString(INI(backendIni(db)), { configDir: path.join(dir, ".redun") }),
      log: (t) => logs.push(t),
    });
    try {
      assert.equal(await scheduler.run(flow.main(3, "procs"), { executionId: "pg-1" }), 14);
      const jobs = await db.query<JobRow>(`${JOBS} WHERE j.execution_id = 'pg-1'`);
      const sub = jobs.find((j) => j.task_name === "redun.subrun")!;
      assert.equal(jobs.find((j) => j.task_name === "subrun_flow.sumSquares")?.parent_id, sub.id);
      assert.equal(jobs.filter((j) => j.task_name === "subrun_flow.square").length, 3);
      assert.doesNotMatch(logs.join(""), /records imported/, "written directly, nothing imported");
    } finally {
      await scheduler.close();
      await db.close();
      process.env = saved;
    }
  });
});
