/**
 * Database outages against a real PostgreSQL: the server is stopped (`pg_ctl stop -m
 * immediate`) in the middle of a run of thousands of quick jobs and started again. A run
 * must either finish with every job recorded DONE, or fail with one line naming the
 * database; never succeed with a record missing. Outages of 3, 10 and 30 s are survived
 * (default retrying: 5 minutes); with a short configured limit the run fails clearly.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { DatabaseUnavailableError, Scheduler } from "../src/index.ts";
import { Backend } from "../src/backend/index.ts";
import { formatError } from "../src/cli/error-report.ts";
import { markFailure } from "../src/scheduler/failure.ts";
import { backendOptionsFromConfig } from "../src/backend/from-config.ts";
import { Config } from "../src/config/config.ts";
import * as flow from "./fixtures/workflows/outage-flow.ts";
import { BIN, REPO, countRuns, makeProject, type CommandResult } from "./helpers/cli.ts";
import { writeIni } from "./helpers/backend.ts";
import { startPostgres, type Postgres } from "./helpers/postgres.ts";

const FLOW = path.join(REPO, "test", "fixtures", "workflows", "outage-flow.ts");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The total of the squares of 0..n-1 (what `squares(n)` returns). */
const sumOfSquares = (n: number) => ((n - 1) * n * (2 * n - 1)) / 6;

/** Waits until `check()` holds (polling); fails after two minutes. */
async function waitUntil(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(25);
  }
}

/** Runs `redun ARGS` without blocking the test's event loop. */
function redunAsync(
  dir: string,
  args: string[],
  env: Record<string, string>,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { ...process.env, REDUN_CONFIG: "", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe("[backend] db_retries and db_retry_max_wait", () => {
  const optionsOf = (lines: string) =>
    backendOptionsFromConfig(
      Config.fromString(`[backend]\n${lines}\n`, {
        configDir: path.join(os.tmpdir(), "redun-outage-config", ".redun"),
        env: {},
      }).backend,
    );

  test("default to minutes of retrying", () => {
    assert.deepEqual(optionsOf("").retry, { attempts: 1000, maxWaitMs: 300_000 });
  });

  test("are read as tries and seconds", () => {
    assert.deepEqual(optionsOf("db_retries = 5\ndb_retry_max_wait = 1.5").retry, {
      attempts: 5,
      maxWaitMs: 1500,
    });
  });

  test("a bad value is one error naming the option", () => {
    assert.throws(() => optionsOf("db_retries = 0"), /db_retries/);
    assert.throws(() => optionsOf("db_retry_max_wait = soon"), /db_retry_max_wait/);
  });
});

describe("database outages (PostgreSQL)", { concurrency: false }, () => {
  let pg: Postgres;
  const dirs: string[] = [];
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    await pg?.stop();
  });

  /**
   * A database on the test server that keeps what it committed through a crash: the test
   * server runs with synchronous_commit = off (fast), which loses the last commits on an
   * immediate stop, as the server documents; a real deployment keeps the default, on.
   */
  const durableDatabase = async () => {
    const created = await pg.createDatabase();
    await pg.query(`ALTER DATABASE "${created.name}" SET synchronous_commit = on`);
    return created;
  };

  const jobCounts = async (database: string): Promise<Record<string, number>> => {
    const rows = await pg
      .query<{ status: string; n: number }>(
        "SELECT status, count(*)::int AS n FROM job GROUP BY status",
        [],
        database,
      )
      // Before the run has created the schema.
      .catch((error) => (error.code === "42P01" ? [] : Promise.reject(error)));
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  };

  /**
   * Runs squares(n) through the Scheduler API, stops the server once some jobs are
   * recorded, starts it again after `downMs`, and checks that every job was recorded DONE.
   */
  async function runThroughOutage(downMs: number, maxQueuedRows?: number) {
    if (!pg.outage) return "skipped: REDUN_TEST_PG names a server this test cannot stop";
    const { name, uri } = await durableDatabase();
    const saved = { ...process.env };
    Object.assign(process.env, pg.env);
    const scheduler = new Scheduler({
      backendOptions: { dbUri: uri, automigrate: true, maxQueuedRows },
      executorConfigs: {
        default: { type: "local", options: { mode: "inline", max_workers: "20" } },
      },
      jobStatusInterval: 0,
      log: () => {},
    });
    const n = 4000;
    try {
      let finished = false;
      const running = scheduler.run(flow.squares(n, 10)).finally(() => (finished = true));
      running.catch(() => {});
      await waitUntil("jobs recorded", async () => ((await jobCounts(name)).DONE ?? 0) >= 200);
      await pg.outage.down();
      assert.equal(finished, false, "the run was still going when the database stopped");
      const backend = await scheduler.backend();
      const doneSquares = () => scheduler.status.count("outage_flow.slowSquare", "DONE");
      const doneAtDown = doneSquares();
      const queuedAtDown = backend.queuedRows();
      let mostQueued = 0;
      const sampler = setInterval(() => {
        mostQueued = Math.max(mostQueued, backend.queuedRows());
      }, 20);
      await sleep(downMs);
      clearInterval(sampler);
      const finishedDuringOutage = finished;
      const doneDuringOutage = doneSquares() - doneAtDown;
      await pg.outage.up();
      assert.equal(await running, sumOfSquares(n));
      // Every job (squares, sum and n slowSquare) is recorded, and finished.
      assert.deepEqual(await jobCounts(name), { DONE: n + 2 });
      const calls = await pg.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM call_node",
        [],
        name,
      );
      assert.equal(calls[0]!.n, n + 2);
      return { mostQueued, queuedAtDown, doneDuringOutage, finishedDuringOutage };
    } finally {
      await scheduler.close();
      process.env = saved;
    }
  }

  test("a 3 s outage mid-run: the run completes and every job is recorded", async (t) => {
    const outcome = await runThroughOutage(3_000);
    if (typeof outcome === "string") return t.skip(outcome);
  });

  test("a 10 s outage with a small queue: new jobs wait for room, then every job is recorded", async (t) => {
    const bound = 3_000;
    const outcome = await runThroughOutage(10_000, bound);
    if (typeof outcome === "string") return t.skip(outcome);
    // Jobs stopped starting when the queue was full (the ones running then still record:
    // a job's rows are well under 50 per job, 20 at a time).
    assert.ok(outcome.mostQueued >= bound, `the queue filled up (${outcome.mostQueued})`);
    assert.ok(outcome.mostQueued < bound + 20 * 50, `and stayed bounded (${outcome.mostQueued})`);
    assert.equal(outcome.finishedDuringOutage, false, "jobs waited for the database");
    // Without backpressure, the ~3,000 jobs left would all have run during the outage.
    assert.ok(outcome.doneDuringOutage < bound / 4, `${outcome.doneDuringOutage} jobs ran`);
  });

  test("a 30 s outage: the final flush waits for the database, then every job is recorded", async (t) => {
    const outcome = await runThroughOutage(30_000);
    if (typeof outcome === "string") return t.skip(outcome);
  });

  test("a lookup or a write past the retry limit is a DatabaseUnavailableError, never a task's", async (t) => {
    if (!pg.outage) return t.skip("REDUN_TEST_PG names a server this test cannot stop");
    const { uri, name } = await durableDatabase();
    const saved = { ...process.env };
    Object.assign(process.env, pg.env);
    const backend = await Backend.open({
      dbUri: uri,
      automigrate: true,
      retry: { maxWaitMs: 300 },
    });
    let up = true;
    try {
      await pg.outage.down();
      up = false;
      const location = `postgresql://127.0.0.1:${pg.port}/${name}`;
      const lookup = await backend.getEvaluation("e".repeat(64)).then(
        () => assert.fail("the lookup should fail"),
        (error: unknown) => error,
      );
      assert.ok(lookup instanceof DatabaseUnavailableError);
      assert.equal(lookup.location, location);
      assert.match(lookup.message, /^cannot read from the database postgresql:\/\/127\.0\.0\.1:/);
      // Even when it went through a job (marked as that job's failure), the command line
      // prints it as the database's error.
      markFailure(lookup, { task: "wf.t", jobId: "0123456789" });
      assert.equal(formatError(lookup), `redun: error: ${lookup.message}\n`);

      backend.recordTask({ hash: "t1", name: "t", namespace: "", fullname: "t", source: "" });
      backend.recordTag({
        tag_hash: "h1",
        entity_type: "Value",
        entity_id: "v",
        key: "k",
        value: "1",
        timestamp: new Date().toISOString(),
      });
      const write = await backend.flush().then(
        () => assert.fail("the flush should fail"),
        (error: unknown) => error,
      );
      assert.ok(write instanceof DatabaseUnavailableError);
      assert.equal(write.unwritten, 2);
      assert.match(
        write.message,
        new RegExp(`^cannot write to the database ${location}: 2 records not written after `),
      );
      // The backend has failed: no new job starts, and every later flush says so.
      await assert.rejects(async () => backend.waitForRoom(), DatabaseUnavailableError);
      await assert.rejects(backend.flush(), /2 records not written/);
    } finally {
      if (!up) await pg.outage.up();
      await backend.close().catch(() => {});
      process.env = saved;
    }
  });

  test("past db_retry_max_wait the run fails naming the database; a rerun replays what was recorded", async (t) => {
    if (!pg.outage) return t.skip("REDUN_TEST_PG names a server this test cannot stop");
    const { name, uri } = await durableDatabase();
    const dir = makeProject({});
    dirs.push(dir);
    writeIni(
      dir,
      [
        "[backend]",
        `db_uri = ${uri}`,
        "automigrate = true",
        "db_retry_max_wait = 2",
        "[scheduler]",
        "job_status_interval = 0",
        "[executors.default]",
        "type = local",
        "mode = inline",
        "max_workers = 20",
      ].join("\n") + "\n",
    );
    const runsFile = path.join(dir, "runs.log");
    const env = { ...pg.env, RUNS_FILE: runsFile };
    const n = 3000;
    const args = ["run", FLOW, "squares", "--n", String(n), "--ms", "10"];
    const running = redunAsync(dir, args, env);
    let up = true;
    try {
      await waitUntil("jobs recorded", async () => ((await jobCounts(name)).DONE ?? 0) >= 200);
      await pg.outage.down();
      up = false;
      const failed = await running;
      assert.equal(failed.code, 1, failed.stderr);
      assert.equal(failed.stdout, "", "no result is printed");
      const errors = failed.stderr.split("\n").filter((l) => l.startsWith("redun:"));
      assert.equal(errors.length, 1, failed.stderr);
      t.diagnostic(errors[0]!);
      assert.match(
        errors[0]!,
        new RegExp(
          `^redun: error: cannot (write to|read from) the database ` +
            `postgresql://127\\.0\\.0\\.1:${pg.port}/${name}: ` +
            `(\\d+ records not written after \\d+ (ms|s) of retrying|.*retrying)`,
        ),
      );
      // The final flush fails too, so the line is about records not written.
      assert.match(errors[0]!, /: [1-9]\d* records not written after \d+ (ms|s) of retrying \(/);
      assert.doesNotMatch(failed.stderr, /task "|password|redun_admin/);
    } finally {
      if (!up) await pg.outage.up();
    }
    const recorded = (await jobCounts(name)).DONE ?? 0;
    assert.ok(recorded >= 200 && recorded < n + 2, `some jobs were recorded (${recorded})`);
    fs.rmSync(runsFile, { force: true });

    const rerun = await redunAsync(dir, args, env);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal(rerun.stdout.trim(), String(sumOfSquares(n)));
    // What the first run recorded is replayed from the cache, not run again.
    const ranAgain = countRuns(dir).filter((r) => r === "slowSquare").length;
    assert.ok(ranAgain <= n - recorded, `${ranAgain} squares ran again, ${recorded} were recorded`);
    // Every job of the rerun is recorded finished.
    const rerunJobs = await pg.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM job WHERE execution_id =
         (SELECT id FROM execution ORDER BY updated_time DESC LIMIT 1) GROUP BY status`,
      [],
      name,
    );
    const byStatus = Object.fromEntries(rerunJobs.map((r) => [r.status, r.n]));
    assert.equal((byStatus.DONE ?? 0) + (byStatus.CACHED ?? 0), n + 2, JSON.stringify(byStatus));
  });
});
