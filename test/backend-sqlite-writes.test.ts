/**
 * The SQLite prepared-statement write path writes exactly what the generic Kysely path
 * writes: the same rows (rowids included) in every table, the same change counts, for
 * duplicates, jobs and executions that only move forward, and record vs import mode.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import type SQLite from "better-sqlite3";
import { Backend } from "../src/backend/backend.ts";
import { compileSqliteInserts, SqliteWriter } from "../src/backend/sqlite-writes.ts";
import { SQLITE_INSERT_SQL } from "../src/backend/sqlite-insert-sql.ts";
import {
  emptyBatch,
  writeBatch,
  WRITE_TABLES,
  type RowBatch,
  type WriteMode,
} from "../src/backend/writes.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redun-sqlite-writes-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const h = (n: number | string) => String(n).padStart(40, "0");
const T0 = "2026-01-01T00:00:00.000Z";
const T1 = "2026-01-01T00:00:01.000Z";
const T2 = "2026-01-01T00:00:02.000Z";

function batch(rows: Partial<RowBatch>): RowBatch {
  return { ...emptyBatch(), ...rows };
}

function job(id: string, status: string, endTime: string | null, callHash: string | null) {
  return {
    id,
    start_time: T0,
    end_time: endTime,
    task_hash: h("t1"),
    cached: status === "CACHED" ? 1 : 0,
    call_hash: callHash,
    parent_id: id === "job-root" ? null : "job-root",
    execution_id: "exec-1",
    status,
  };
}

/** Batches exercising every table and conflict rule, written in this order. */
const STEPS: { mode: WriteMode; rows: RowBatch }[] = [
  {
    mode: "record",
    rows: batch({
      task: [
        { hash: h("t1"), name: "a", namespace: "ns", fullname: "ns.a", source: "x" },
        { hash: h("t1"), name: "a", namespace: "ns", fullname: "ns.a", source: "x" },
        { hash: h("t0"), name: "b", namespace: "", fullname: "b", source: "y" },
      ],
      value: [
        { value_hash: h("v2"), type: "number", format: "redun-wire+json", value: Buffer.from("2") },
        { value_hash: h("v1"), type: "string", format: "redun-wire+json", value: Buffer.from("1") },
        { value_hash: h("v2"), type: "number", format: "redun-wire+json", value: Buffer.from("2") },
        { value_hash: h("v3"), type: "ref", format: "ref", value: Buffer.alloc(0) },
      ],
      subvalue: [{ value_hash: h("v1"), parent_value_hash: h("v2") }],
      file: [{ value_hash: h("v3"), path: "/data/x.txt" }],
      evaluation: [
        { eval_hash: h("e1"), task_hash: h("t1"), args_hash: h("a1"), value_hash: h("v1") },
      ],
      call_node: [
        {
          call_hash: h("c1"),
          task_name: "ns.a",
          task_hash: h("t1"),
          args_hash: h("a1"),
          eval_hash: h("e1"),
          value_hash: h("v1"),
          timestamp: T1,
        },
      ],
      call_edge: [
        { parent_id: h("c1"), child_id: h("c2"), call_order: 1 },
        { parent_id: h("c1"), child_id: h("c2"), call_order: 0 },
        { parent_id: h("c1"), child_id: h("c2"), call_order: 1 },
      ],
      call_subtree_task: [
        { call_hash: h("c1"), task_hash: h("t1") },
        { call_hash: h("c1"), task_hash: h("t0") },
      ],
      argument: [
        {
          arg_hash: h("g1"),
          call_hash: h("c1"),
          value_hash: h("v2"),
          arg_position: 0,
          arg_key: "x",
        },
        {
          arg_hash: h("g2"),
          call_hash: h("c1"),
          value_hash: h("v2"),
          arg_position: null,
          arg_key: null,
        },
      ],
      argument_result: [{ arg_hash: h("g1"), result_call_hash: h("c2") }],
      tag: [
        {
          tag_hash: h("tag1"),
          entity_type: "Job",
          entity_id: "job-root",
          key: "k",
          value: '"v"',
          timestamp: T1,
        },
      ],
      execution: [{ id: "exec-1", args: "[]", job_id: null, updated_time: T0 }],
      job: [job("job-root", "RUNNING", null, null), job("job-a", "RUNNING", null, null)],
    }),
  },
  {
    // Jobs finish; the execution learns its root job; a rerun replaces an evaluation.
    mode: "record",
    rows: batch({
      evaluation: [
        { eval_hash: h("e1"), task_hash: h("t1"), args_hash: h("a1"), value_hash: h("v2") },
        { eval_hash: h("e2"), task_hash: h("t1"), args_hash: h("a2"), value_hash: h("v2") },
      ],
      execution: [{ id: "exec-1", args: "[]", job_id: "job-root", updated_time: T1 }],
      job: [job("job-a", "DONE", T1, h("c2")), job("job-b", "CACHED", T1, h("c1"))],
    }),
  },
  {
    // Stale copies: nothing moves backward.
    mode: "record",
    rows: batch({
      execution: [{ id: "exec-1", args: "[]", job_id: null, updated_time: T0 }],
      job: [job("job-a", "RUNNING", null, null), job("job-b", "RUNNING", null, null)],
      task: [{ hash: h("t1"), name: "changed", namespace: "ns", fullname: "ns.a", source: "z" }],
    }),
  },
  {
    // Another repository's rows: existing rows win, new ones come in.
    mode: "import",
    rows: batch({
      evaluation: [
        { eval_hash: h("e1"), task_hash: h("t1"), args_hash: h("a1"), value_hash: h("v3") },
        { eval_hash: h("e3"), task_hash: h("t0"), args_hash: h("a3"), value_hash: h("v3") },
      ],
      value: [
        { value_hash: h("v1"), type: "string", format: "redun-wire+json", value: Buffer.from("9") },
        { value_hash: h("v4"), type: "number", format: "redun-wire+json", value: Buffer.from("4") },
      ],
      execution: [
        { id: "exec-1", args: "[]", job_id: "job-root", updated_time: T2 },
        { id: "exec-2", args: '["run"]', job_id: "job-x", updated_time: T2 },
      ],
      job: [job("job-root", "DONE", T2, h("c1")), job("job-x", "FAILED", T2, null)],
    }),
  },
  {
    // The same import again changes nothing.
    mode: "import",
    rows: batch({
      evaluation: [
        { eval_hash: h("e3"), task_hash: h("t0"), args_hash: h("a3"), value_hash: h("v3") },
      ],
      job: [job("job-x", "FAILED", T2, null)],
    }),
  },
];

/** Every row of every written table, with its rowid where the table has one. */
function dump(backend: Backend): Record<string, unknown[]> {
  const sqlite = connection(backend);
  const out: Record<string, unknown[]> = {};
  for (const table of WRITE_TABLES) {
    out[table] = sqlite.prepare(`SELECT rowid AS _rowid, * FROM "${table}" ORDER BY rowid`).all();
  }
  return out;
}

/** The better-sqlite3 connection under a SQLite backend. */
function connection(backend: Backend): SQLite.Database {
  return backend.handle.sqlite as SQLite.Database;
}

async function open(name: string): Promise<Backend> {
  const file = path.join(dir, name);
  return Backend.open({ dbUri: `sqlite:///${file}`, sqlitePath: file });
}

describe("SQLite prepared-statement writes", () => {
  it("write the same rows and change counts as the generic path", async () => {
    const generic = await open("generic.db");
    const prepared = await open("prepared.db");
    try {
      assert.ok(prepared.handle.sqlite, "a SQLite file exposes its connection");
      const writer = new SqliteWriter(connection(prepared), () => prepared.db);
      const counts: [number, number][] = [];
      for (const step of STEPS) {
        counts.push([
          await writeBatch(generic.db, step.rows, step.mode),
          await writer.write(step.rows, step.mode),
        ]);
      }
      for (const [i, [a, b]] of counts.entries()) assert.equal(b, a, `changes of step ${i}`);
      assert.deepEqual(
        counts.map(([a]) => a),
        [20, 5, 0, 6, 0],
        "the steps change what they should",
      );
      const expected = dump(generic);
      const actual = dump(prepared);
      for (const table of WRITE_TABLES) assert.deepEqual(actual[table], expected[table], table);

      // Spot checks that the rules themselves held (not only that both paths agree).
      const jobs = Object.fromEntries(
        (expected.job as { id: string; status: string }[]).map((j) => [j.id, j.status]),
      );
      assert.deepEqual(jobs, {
        "job-root": "DONE",
        "job-a": "DONE",
        "job-b": "CACHED",
        "job-x": "FAILED",
      });
      const evaluations = Object.fromEntries(
        (expected.evaluation as { eval_hash: string; value_hash: string }[]).map((e) => [
          e.eval_hash,
          e.value_hash,
        ]),
      );
      assert.equal(evaluations[h("e1")], h("v2"), "record mode: the newest evaluation wins");
      assert.equal(evaluations[h("e3")], h("v3"), "import mode: new evaluations come in");
      assert.equal(
        (expected.value as { value_hash: string; value: Buffer }[])
          .find((v) => v.value_hash === h("v1"))!
          .value.toString(),
        "1",
        "import mode: existing values are kept",
      );
      const execution = (expected.execution as { id: string; job_id: string }[]).find(
        (e) => e.id === "exec-1",
      )!;
      assert.equal(execution.job_id, "job-root", "an execution keeps its root job");
      assert.equal(expected.call_edge!.length, 2, "duplicate edges are one row");
    } finally {
      await generic.close();
      await prepared.close();
    }
  });

  it("is the path a file-backed Backend records and imports through", async () => {
    const backend = await open("backend.db");
    try {
      for (const step of STEPS) {
        if (step.mode === "import") await backend.writeImported(step.rows);
        else {
          for (const row of step.rows.job) backend.recordJob(row);
          for (const row of step.rows.execution) backend.recordExecution(row);
          for (const row of step.rows.evaluation) backend.recordEvaluation(row);
          for (const row of step.rows.task) backend.recordTask(row);
          await backend.flush();
        }
      }
      const jobs = connection(backend).prepare("SELECT id, status FROM job ORDER BY id").all() as {
        id: string;
        status: string;
      }[];
      assert.deepEqual(
        jobs.map((j) => `${j.id}:${j.status}`),
        ["job-a:DONE", "job-b:CACHED", "job-root:DONE", "job-x:FAILED"],
      );
      const hit = await backend.getEvaluation(h("e2"));
      assert.equal(hit, undefined, "no value row for v2 in this database: not a hit");
    } finally {
      await backend.close();
    }
  });

  it("ship the SQL their Kysely queries compile to (sqlite-insert-sql.ts is current)", async () => {
    const backend = await open("compiled.db");
    try {
      assert.deepEqual(
        SQLITE_INSERT_SQL,
        compileSqliteInserts(backend.db),
        "run: node --import tsx scripts/gen-sqlite-sql.ts",
      );
    } finally {
      await backend.close();
    }
  });

  it("caches lookups through prepared statements with the generic path's answers", async () => {
    const backend = await open("lookups.db");
    try {
      backend.recordValue(h("vx"), { answer: 42 });
      backend.recordEvaluation({
        eval_hash: h("ex"),
        task_hash: h("t1"),
        args_hash: h("ax"),
        value_hash: h("vx"),
      });
      await backend.flush();
      const [hit, miss] = await Promise.all([
        backend.getEvaluation(h("ex")),
        backend.getEvaluation(h("missing")),
      ]);
      assert.deepEqual(hit, { valueHash: h("vx"), value: { answer: 42 }, callHashes: [] });
      assert.equal(miss, undefined);
    } finally {
      await backend.close();
    }
  });
});
