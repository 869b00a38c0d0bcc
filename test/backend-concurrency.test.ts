/**
 * Concurrency and faults: two `redun run` processes writing to one database at the same
 * moment lose nothing (SQLite and PostgreSQL); a scheduler killed mid-run leaves a
 * database that the next run uses and resumes from; a dropped or refused PostgreSQL
 * connection is retried with backoff.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { Scheduler } from "../src/index.ts";
import { Backend } from "../src/backend/index.ts";
import { isTransientError } from "../src/backend/retry.ts";
import * as flow from "./fixtures/workflows/backend-flow.ts";
import { countRuns, jobTotals, startRedun } from "./helpers/cli.ts";
import { FLOW, json, useBackendProjects, query, type Project } from "./helpers/backend.ts";
import { startProxy } from "./helpers/tcp-proxy.ts";

const DIALECTS = ["sqlite", "postgresql"] as const;

/** Starts `redun ARGS` in the project without waiting for it. */
const start = (p: Project, args: string[]) => startRedun(p.dir, args, p.env);

/** Polls until `check` holds; fails the test after a minute (a hang, not a slow machine). */
async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("concurrent runs and faults", () => {
  const backends = useBackendProjects();
  const project = backends.project;

  for (const dialect of DIALECTS) {
    test(`${dialect}: two schedulers writing at once both succeed, with every row present`, async () => {
      const p = await project(dialect);
      const barrier = path.join(p.dir, "barrier");
      fs.mkdirSync(barrier);
      const n = 40;
      // Both start on an empty database: they also race to create the schema.
      const a = start(p, [
        "run",
        FLOW,
        "together",
        "--dir",
        barrier,
        "--me",
        "a",
        "--other",
        "bb",
        "--n",
        String(n),
      ]);
      const b = start(p, [
        "run",
        FLOW,
        "together",
        "--dir",
        barrier,
        "--me",
        "bb",
        "--other",
        "a",
        "--n",
        String(n),
      ]);
      const [ra, rb] = await Promise.all([a.done, b.done]);
      assert.equal(ra.code, 0, ra.stderr);
      assert.equal(rb.code, 0, rb.stderr);
      const sumSquares = Array.from({ length: n }, (_, i) => i * i).reduce((x, y) => x + y, 0);
      const own = (k: number) =>
        Array.from({ length: n }, (_, i) => i + k * 1000 + i).reduce((x, y) => x + y, 0);
      assert.equal(ra.stdout.trim(), `{ shared: ${sumSquares}, own: ${own(1)} }`);
      assert.equal(rb.stdout.trim(), `{ shared: ${sumSquares}, own: ${own(2)} }`);
      for (const r of [ra, rb]) {
        const totals = jobTotals(r.stderr);
        assert.equal(totals.TOTAL, 1 + n + n + 2);
        assert.equal(totals.FAILED, 0);
      }

      const perExecution = await p.query<{ execution_id: string; n: number | string }>(
        "SELECT execution_id, count(*) AS n FROM job WHERE status IN ('DONE', 'CACHED') GROUP BY execution_id",
      );
      assert.deepEqual(
        perExecution.map((r) => Number(r.n)),
        [1 + n + n + 2, 1 + n + n + 2],
      );
      const orphans = async (sql: string) => Number((await p.query<{ n: number }>(sql))[0]!.n);
      assert.equal(
        await orphans(
          "SELECT count(*) AS n FROM job LEFT JOIN call_node c ON c.call_hash = job.call_hash WHERE c.call_hash IS NULL",
        ),
        0,
        "every job's call is recorded",
      );
      assert.equal(
        await orphans(
          "SELECT count(*) AS n FROM argument a LEFT JOIN value v ON v.value_hash = a.value_hash WHERE v.value_hash IS NULL",
        ),
        0,
        "every argument's value is recorded",
      );
      assert.equal(
        await orphans(
          "SELECT count(*) AS n FROM call_node c LEFT JOIN value v ON v.value_hash = c.value_hash WHERE v.value_hash IS NULL",
        ),
        0,
        "every result is recorded",
      );
      assert.equal(
        await orphans(
          "SELECT count(*) AS n FROM job LEFT JOIN task t ON t.hash = job.task_hash WHERE t.hash IS NULL",
        ),
        0,
        "every task is recorded",
      );
      // The squares both computed are one set of content-addressed rows, and a third run
      // replays all of them.
      const again = p.redun(["run", FLOW, "fanout", "--n", String(n)]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(jobTotals(again.stderr).CACHED, n + 1, "the squares and their total");
    });

    test(`${dialect}: a scheduler killed mid-run leaves a database the next run resumes from`, async () => {
      const p = await project(dialect);
      const gate = path.join(p.dir, "gate");
      fs.mkdirSync(gate);
      const run = start(p, ["run", FLOW, "gated", "--dir", gate]);
      const finished = () =>
        p
          .query<{ n: number | string }>("SELECT count(*) AS n FROM job WHERE status = 'DONE'")
          .then((rows) => Number(rows[0]!.n))
          .catch(() => 0);
      // square(11) and square(12) are done and recorded; waitGate is running.
      await until("the first jobs to be recorded", async () => {
        return fs.existsSync(path.join(gate, "waiting")) && (await finished()) >= 2;
      });
      run.child.kill("SIGKILL");
      const killed = await run.done;
      assert.notEqual(killed.code, 0);

      const log = json(p.redun(["log", "--format", "json"]));
      assert.equal(log.executions.length, 1);
      assert.equal(log.executions[0].status, "RUNNING", "the killed execution never finished");

      fs.writeFileSync(path.join(gate, "open"), "");
      const resumed = p.redun(["run", FLOW, "gated", "--dir", gate]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal(resumed.stdout.trim(), "{ first: 121, second: 145 }");
      const runs = countRuns(p.dir);
      assert.equal(runs.filter((r) => r === "square").length, 2, "the squares were replayed");
      assert.equal(runs.filter((r) => r === "gated").length, 1, "gated's reduction was replayed");
      assert.equal(
        runs.filter((r) => r === "waitGate").length,
        2,
        "only the unfinished job ran again",
      );
      const totals = jobTotals(resumed.stderr);
      assert.deepEqual([totals.CACHED, totals.DONE], [3, 1]);
    });
  }

  test("postgresql: dropped and refused connections are retried with backoff", async () => {
    const { name } = await backends.pg.createDatabase();
    const proxy = await startProxy(backends.pg.port);
    const saved = { ...process.env };
    Object.assign(process.env, backends.pg.env);
    const options = {
      dbUri: `postgresql://127.0.0.1:${proxy.port}/${name}`,
      automigrate: true,
    };
    const scheduler = new Scheduler({
      backendOptions: options,
      executorConfigs: { default: { type: "local", options: { mode: "inline" } } },
      jobStatusInterval: 0,
      log: () => {},
    });
    try {
      assert.deepEqual(await scheduler.run(flow.fanout(4)), { squares: [0, 1, 4, 9], total: 14 });
      const backend = await scheduler.backend();

      // Every open connection dies, and the next three attempts are refused.
      proxy.dropAll();
      proxy.refuseNext(3);
      const before = proxy.accepted;
      backend.recordTask({ hash: "t-retry", name: "x", namespace: "", fullname: "x", source: "" });
      await backend.flush();
      assert.ok(proxy.refused >= 3, "the refusals were met");
      assert.ok(proxy.accepted > before + 3, "and the write went through on a later try");

      proxy.dropAll();
      proxy.refuseNext(2);
      const result = await scheduler.run(flow.fanout(6));
      assert.deepEqual(result, { squares: [0, 1, 4, 9, 16, 25], total: 55 });
      assert.equal(scheduler.status.format().match(/ALL\s+\d+\s+\d+\s+\d+\s+(\d+)/)?.[1], "4");
      const rows = await query(
        { dialect: "postgresql", pg: backends.pg, name, uri: "" },
        "SELECT hash FROM task WHERE hash = 't-retry'",
      );
      assert.equal(rows.length, 1);
    } finally {
      await scheduler.close();
      await proxy.close();
      process.env = saved;
    }
  });

  test("which errors are retried", () => {
    for (const code of [
      "40001",
      "40P01",
      "57P01",
      "08006",
      "ECONNRESET",
      "ECONNREFUSED",
      "SQLITE_BUSY",
    ])
      assert.equal(isTransientError(Object.assign(new Error("x"), { code })), true, code);
    assert.equal(isTransientError(new Error("Connection terminated unexpectedly")), true);
    for (const code of ["23505", "42P01", "28P01", "SQLITE_CONSTRAINT"])
      assert.equal(isTransientError(Object.assign(new Error("x"), { code })), false, code);
    assert.equal(isTransientError(new Error("syntax error")), false);
  });

  test("a backend that cannot reach its server fails clearly after its retries", async () => {
    const proxy = await startProxy(backends.pg.port);
    proxy.refuseNext(1000);
    const saved = { ...process.env };
    Object.assign(process.env, backends.pg.env);
    try {
      await assert.rejects(
        Backend.open({ dbUri: `postgresql://127.0.0.1:${proxy.port}/postgres` }),
        /^DatabaseConnectionError: cannot connect to postgresql:\/\/127\.0\.0\.1:\d+\/postgres: /,
      );
      assert.equal(proxy.accepted, 5, "five tries, then the error");
    } finally {
      await proxy.close();
      process.env = saved;
    }
  });
});
