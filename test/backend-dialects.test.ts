/**
 * One backend, two dialects: the same workflows recorded in SQLite and in a real
 * PostgreSQL server give the same results, the same cache hits and the same rows; schema
 * migrations go up and down on both; automigrate follows the configuration document.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { REPO, countRuns, jobTotals } from "./helpers/cli.ts";
import { FLOW, json, useBackendProjects, schemaObjects, tableCounts } from "./helpers/backend.ts";

const DIALECTS = ["sqlite", "postgresql"] as const;

describe("SQLite and PostgreSQL", () => {
  const backends = useBackendProjects();
  const project = backends.project;

  test("the same workflow gives identical results, cache hits and rows", async () => {
    const seen: Record<string, unknown> = {};
    for (const dialect of DIALECTS) {
      const p = await project(dialect);
      const steps: unknown[] = [];
      for (const args of [
        ["main", "--x", "3", "--y", "4"],
        ["main", "--x", "3", "--y", "4"],
        ["main", "--x", "3", "--y", "5", "--label", "again"],
        ["fanout", "--n", "25"],
        ["fanout", "--n", "30", "--offset", "2"],
      ]) {
        const result = p.redun(["run", FLOW, ...args]);
        assert.equal(result.code, 0, `${dialect}: ${result.stderr}`);
        steps.push({ args, stdout: result.stdout, totals: jobTotals(result.stderr) });
      }
      const failed = p.redun(["run", FLOW, "partly", "--message", "no"]);
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /task "backend_flow\.fail" failed .*boom: no/);
      const log = json(p.redun(["log", "--format", "json"]));
      seen[dialect] = {
        steps,
        runs: countRuns(p.dir).sort(),
        counts: await tableCounts(p.db),
        statuses: log.executions.map((e: any) => [e.status, e.jobCounts]),
      };
      // Absolute expectations, so that two equally wrong backends do not pass.
      const totals = steps.map((s: any) => s.totals);
      assert.deepEqual(
        totals.map((t: any) => [t.DONE, t.CACHED]),
        [
          [4, 0],
          [0, 4],
          [3, 1],
          [24, 3],
          [9, 23],
        ],
        dialect,
      );
    }
    assert.deepEqual(seen.postgresql, seen.sqlite);
  });

  for (const dialect of DIALECTS) {
    test(`${dialect}: migrations up and down, with data kept across upgrades`, async () => {
      const p = await project(dialect, "", { automigrate: false });
      const info = p.redun(["db", "info"]);
      assert.equal(info.code, 0, info.stderr);
      assert.match(info.stdout, new RegExp(`dialect: ${dialect}\\n`));
      assert.match(info.stdout, /schema version: 0\n/);
      // No file yet (SQLite), or an empty database (PostgreSQL); automigrate is off.
      assert.match(
        info.stdout,
        /status: (not usable yet: run `redun db upgrade`|no database yet: `redun init` or `redun db upgrade` makes it)\n/,
      );

      const refused = p.redun(["run", FLOW, "square", "--x", "2"]);
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        /redun: error: The database .* is at schema version 0 and needs version 3; run `redun db upgrade`/,
      );

      assert.match(p.redun(["db", "upgrade", "1"]).stdout, /upgraded to schema version 1/);
      assert.ok((await schemaObjects(p.db)).includes("job"));
      assert.ok(!(await schemaObjects(p.db, "index")).includes("ix_job_start_time"));
      // Version 1 is in the compatible range: usable without migrating.
      const atOne = p.redun(["run", FLOW, "square", "--x", "2"]);
      assert.equal(atOne.code, 0, atOne.stderr);
      assert.match(p.redun(["db", "info"]).stdout, /status: usable; `redun db upgrade` brings/);

      assert.match(p.redun(["db", "upgrade", "2"]).stdout, /upgraded to schema version 2/);
      assert.ok((await schemaObjects(p.db, "index")).includes("ix_job_start_time"));
      assert.ok(!(await schemaObjects(p.db)).includes("call_claim"));
      // Version 2 is usable too: runs on it claim nothing.
      const atTwoNoClaims = p.redun(["run", FLOW, "square", "--x", "3"]);
      assert.equal(atTwoNoClaims.code, 0, atTwoNoClaims.stderr);
      assert.match(p.redun(["db", "upgrade"]).stdout, /upgraded to schema version 3/);
      assert.match(p.redun(["db", "upgrade"]).stdout, /already at schema version 3/);
      assert.ok((await schemaObjects(p.db)).includes("call_claim"));
      const atTwo = p.redun(["run", FLOW, "square", "--x", "2"]);
      assert.equal(atTwo.code, 0, atTwo.stderr);
      assert.equal(
        jobTotals(atTwo.stderr).CACHED,
        1,
        "the row written at version 1 is still there",
      );

      const newer = p.redun(["db", "upgrade", "1"]);
      assert.equal(newer.code, 1);
      assert.match(newer.stderr, /version 1 is older: use `redun db downgrade 1`/);
      assert.match(p.redun(["db", "downgrade", "1"]).stdout, /downgraded to schema version 1/);
      assert.ok(!(await schemaObjects(p.db, "index")).includes("ix_job_start_time"));
      assert.equal((await tableCounts(p.db)).job, 3);
      assert.match(p.redun(["db", "downgrade", "0"]).stdout, /downgraded to schema version 0/);
      assert.deepEqual(await schemaObjects(p.db), ["redun_version"]);

      const versions = p.redun(["db", "versions"]);
      assert.match(versions.stdout, /  1  provenance tables/);
      assert.match(versions.stdout, /  2  indexes for provenance queries/);
      assert.match(versions.stdout, /  3  call claims/);
      assert.match(versions.stdout, /-> 1\n.*-> 2\n.*-> 3\n.*-> 1\n.*-> 0\n$/s);
    });
  }

  test("automigrate: on by default for SQLite, off by default for PostgreSQL", async () => {
    const lite = await project("sqlite", "", { automigrate: "default" });
    const liteRun = lite.redun(["run", FLOW, "square", "--x", "5"]);
    assert.equal(liteRun.code, 0, liteRun.stderr);
    assert.equal(liteRun.stdout.trim(), "25");

    const shared = await project("postgresql", "", { automigrate: "default" });
    const refused = shared.redun(["run", FLOW, "square", "--x", "5"]);
    assert.equal(refused.code, 1);
    const lines = refused.stderr.split("\n").filter((l) => l && !l.startsWith("[redun]"));
    assert.equal(lines.length, 1, refused.stderr);
    assert.match(
      lines[0]!,
      /^redun: error: The database postgresql:\/\/127\.0\.0\.1:\d+\/\w+ is at schema version 0 and needs version 3; run `redun db upgrade` \(automigrate is off for this database\)$/,
    );
    assert.deepEqual(await schemaObjects(shared.db), [], "nothing was created");
    assert.match(shared.redun(["db", "upgrade"]).stdout, /upgraded to schema version 3/);
    const ran = shared.redun(["run", FLOW, "square", "--x", "5"]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout.trim(), "25");
  });

  test("the engine loads the PostgreSQL driver and the AWS SDK only when they are used", () => {
    const script = `
      import { createRequire } from "node:module";
      const require = createRequire(import.meta.url);
      const loaded = () => Object.keys(require.cache).filter((k) => /node_modules\\/(pg|pg-pool|@aws-sdk)\\//.test(k)).length;
      const redun = await import(${JSON.stringify(REPO + "/src/backend/index.ts")});
      const before = loaded();
      const backend = await redun.Backend.open({ dbUri: "sqlite:///:memory:" });
      await backend.close();
      const withSqlite = loaded();
      await import(${JSON.stringify(REPO + "/src/backend/postgres.ts")});
      console.log(JSON.stringify([before, withSqlite, loaded() > 0]));
    `;
    const result = spawnSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        cwd: REPO,
        encoding: "utf8",
      },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), [0, 0, true]);
  });
});
