/**
 * SQLite writes on their own thread (a large run's index maintenance overlapping its
 * scheduling) leave exactly the rows the in-thread path leaves, wait for another
 * connection's lock without blocking the scheduler, and a cached job whose call is already
 * recorded records no call rows again (as Python redun skips an existing call node).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import SQLite from "better-sqlite3";
import { namespace, Scheduler } from "../src/index.ts";
import { Backend } from "../src/backend/backend.ts";
import { queryDb, schedulerOptions, tempDir } from "./helpers/engine.ts";

const { task } = namespace("write_thread");

const leaf = task(function leaf(i: number) {
  return { i, twice: i * 2 };
});
const fanout = task(function fanout(n: number) {
  return Array.from({ length: n }, (_, i) => leaf(i));
});

const dir = tempDir();
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Content-addressed rows of every table, without what differs between runs (ids, times). */
function contentRows(dbPath: string): Record<string, unknown[]> {
  const q = (sql: string) => queryDb(dbPath, sql);
  return {
    task: q("select hash, fullname from task order by hash"),
    value: q("select value_hash, type, format, value from value order by value_hash"),
    evaluation: q("select * from evaluation order by eval_hash"),
    call_node: q(
      "select call_hash, task_name, task_hash, args_hash, eval_hash, value_hash " +
        "from call_node order by call_hash",
    ),
    call_edge: q("select * from call_edge order by parent_id, child_id"),
    call_subtree_task: q("select * from call_subtree_task order by call_hash, task_hash"),
    argument: q("select * from argument order by arg_hash"),
    argument_result: q("select * from argument_result order by arg_hash, result_call_hash"),
    job: q("select task_hash, cached, call_hash, status from job order by call_hash, task_hash"),
  };
}

async function runFanout(dbPath: string, writeThreadAfterRows: number, n: number) {
  const logs: string[] = [];
  const options = schedulerOptions(dbPath, logs, { mode: "inline" });
  const scheduler = new Scheduler({
    ...options,
    backendOptions: { ...options.backendOptions, writeThreadAfterRows },
  });
  try {
    return await scheduler.run(fanout(n));
  } finally {
    await scheduler.close();
  }
}

/** A backend on a SQLite file, writing on a thread once this many rows have been written. */
function openBackend(dbPath: string, writeThreadAfterRows: number): Promise<Backend> {
  return Backend.open({ dbUri: `sqlite:///${dbPath}`, sqlitePath: dbPath, writeThreadAfterRows });
}

/** Waits for the writer thread's connection to open (10 s at most). */
async function untilReady(backend: Backend): Promise<void> {
  assert.equal(backend.writesOnThread, true);
  for (let i = 0; i < 200 && !backend.writeThreadReady; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(backend.writeThreadReady, true, "the writer thread opened its connection");
}

describe("the SQLite writer thread", () => {
  it("leaves the rows the in-thread path leaves, cold and cached", async () => {
    const inThread = path.join(dir, "in-thread.db");
    const onThread = path.join(dir, "on-thread.db");
    for (let run = 0; run < 2; run++) {
      const a = await runFanout(inThread, Infinity, 300);
      const b = await runFanout(onThread, 0, 300);
      assert.deepEqual(b, a);
      assert.equal((b as unknown[]).length, 300);
    }
    const expected = contentRows(inThread);
    const actual = contentRows(onThread);
    for (const table of Object.keys(expected)) {
      assert.deepEqual(actual[table], expected[table], table);
    }
    assert.equal(expected.job!.length, 2 * 301, "two runs of 301 jobs");
    assert.equal(expected.call_node!.length, 301);
  });

  it("starts once the threshold is passed and records every row", async () => {
    const dbPath = path.join(dir, "threshold.db");
    const backend = await openBackend(dbPath, 50);
    try {
      const row = (i: number) => ({
        eval_hash: `e${i}`,
        task_hash: "t",
        args_hash: `a${i}`,
        value_hash: `v${i}`,
      });
      for (let i = 0; i < 40; i++) backend.recordEvaluation(row(i));
      await backend.flush();
      assert.equal(backend.writesOnThread, false, "40 rows: below the threshold");
      for (let i = 40; i < 100; i++) backend.recordEvaluation(row(i));
      await backend.flush();
      assert.equal(backend.writesOnThread, true, "100 rows: past it");
      for (let i = 100; i < 200; i++) backend.recordEvaluation(row(i));
      await backend.flush();
    } finally {
      await backend.close();
    }
    const [{ count }] = queryDb<{ count: number }>(
      dbPath,
      "select count(*) as count from evaluation",
    );
    assert.equal(count, 200);
  });

  it("claims calls, saying which are recorded already", async () => {
    const dbPath = path.join(dir, "claims.db");
    const backend = await openBackend(dbPath, 0);
    try {
      backend.recordEvaluation({ eval_hash: "w", task_hash: "t", args_hash: "a", value_hash: "v" });
      await backend.flush();
      await untilReady(backend);
      const claims = await backend.claimCalls("holder", ["v", "w"], 1000);
      assert.deepEqual([[...claims.held].sort(), [...claims.recorded]], [["v", "w"], ["w"]]);
      const again = await backend.claimCalls("other", ["v", "w"], 1000);
      assert.deepEqual([[...again.held], [...again.recorded]], [[], []], "held by the first");
    } finally {
      await backend.close();
    }
  });

  it("waits for another connection's write lock without blocking the scheduler's thread", async () => {
    const dbPath = path.join(dir, "locked.db");
    const backend = await openBackend(dbPath, 0);
    const other = new SQLite(dbPath);
    try {
      other.prepare("BEGIN IMMEDIATE").run();
      backend.recordEvaluation({
        eval_hash: "e1",
        task_hash: "t",
        args_hash: "a",
        value_hash: "v",
      });
      let flushed = false;
      const flushing = backend.flush().then(() => (flushed = true));
      // This thread keeps running while the writer waits: timers fire, and the lock holder
      // (on this thread) can commit. An in-thread write would block here until its timeout.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(flushed, false, "the write waits for the lock");
      other.prepare("COMMIT").run();
      await flushing;
      assert.equal(flushed, true);
    } finally {
      other.close();
      await backend.close();
    }
    assert.equal(queryDb(dbPath, "select * from evaluation").length, 1);
  });
});

describe("a running job's row", () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const job = (id: string, status: string, endTime: string | null) => ({
    id,
    start_time: "2026-01-01T00:00:00.000Z",
    end_time: endTime,
    task_hash: "t",
    cached: 0,
    call_hash: null,
    parent_id: null,
    execution_id: "x",
    status,
  });

  for (const [where, writeThreadAfterRows] of [
    ["on the writer thread", 0],
    ["in this thread", Infinity],
  ] as const) {
    it(`waits a second to be written, and holds up no row queued after it (${where})`, async () => {
      const dbPath = path.join(dir, `held-${writeThreadAfterRows}.db`);
      const backend = await openBackend(dbPath, writeThreadAfterRows);
      const written = () =>
        queryDb<{ id: string }>(dbPath, "select id from job order by id")
          .map((j) => j.id)
          .join(",");
      try {
        backend.recordEvaluation({
          eval_hash: "e",
          task_hash: "t",
          args_hash: "a",
          value_hash: "v",
        });
        await backend.flush();
        if (writeThreadAfterRows === 0) await untilReady(backend);
        backend.recordJob(job("running", "RUNNING", null));
        // The next flush (after 20 ms) leaves the running job's row for a later one.
        await sleep(100);
        assert.equal(written(), "");
        backend.recordJob(job("done", "DONE", "2026-01-01T00:00:01.000Z"));
        // It is written by the next flush, alone: not with the held row (due about a second
        // after it was queued), which a later write would find queued too.
        let seen = "";
        for (let i = 0; i < 300 && seen === ""; i++) {
          await sleep(10);
          seen = written();
        }
        assert.equal(seen, "done");
        await backend.flush();
        assert.equal(written(), "done,running");
      } finally {
        await backend.close();
      }
    });
  }
});

describe("a cached job whose call is already recorded", () => {
  it("records its job row but no call rows again", async () => {
    const dbPath = path.join(dir, "known-calls.db");
    await runFanout(dbPath, Infinity, 20);
    const logs: string[] = [];
    const scheduler = new Scheduler(schedulerOptions(dbPath, logs, { mode: "inline" }));
    const recorded: string[] = [];
    try {
      const backend = await scheduler.backend();
      const recordCall = backend.recordCall.bind(backend);
      backend.recordCall = (rows) => {
        recorded.push(rows.callNode.task_name);
        recordCall(rows);
      };
      assert.equal((await scheduler.run(fanout(20))).length, 20);
      // A new leaf is a new call: it is recorded, the 20 known ones are not.
      assert.equal((await scheduler.run(fanout(21))).length, 21);
    } finally {
      await scheduler.close();
    }
    assert.deepEqual(recorded.sort(), ["write_thread.fanout", "write_thread.leaf"]);
    const jobs = queryDb<{ cached: number; n: number }>(
      dbPath,
      "select cached, count(*) as n from job group by cached order by cached",
    );
    assert.deepEqual(
      jobs.map((j) => [j.cached, j.n]),
      [
        [0, 21 + 1 + 1],
        [1, 21 + 20],
      ],
    );
  });
});
