/**
 * No call runs twice because schedulers share a database: a scheduler claims a call before
 * its body runs (a lease, renewed while it runs); the others wait for its result; the calls
 * of a scheduler that died are taken over once its lease runs out. SQLite and PostgreSQL.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { claimCalls, releaseClaims, renewClaims } from "../src/backend/call-claims.ts";
import { Backend } from "../src/backend/index.ts";
import { countRuns, startRedun } from "./helpers/cli.ts";
import { useBackendProjects, type Project } from "./helpers/backend.ts";
import { REPO } from "./helpers/cli.ts";

const FLOW = path.join(REPO, "test", "fixtures", "workflows", "claims-flow.ts");
const DIALECTS = ["sqlite", "postgresql"] as const;

/** Starts `redun ARGS` in the project without waiting for it. */
const start = (p: Project, args: string[], env: Record<string, string> = {}) =>
  startRedun(p.dir, args, { ...p.env, ...env });

/** Sets `[scheduler] call_lease` in the project's redun.ini (the test helper sets 2 s). */
function setLease(p: Project, seconds: number): void {
  const ini = path.join(p.dir, ".redun", "redun.ini");
  const text = fs.readFileSync(ini, "utf8");
  assert.match(text, /^call_lease = /m);
  fs.writeFileSync(ini, text.replace(/^call_lease = .*$/m, `call_lease = ${seconds}`));
}

const bodies = (p: Project, name: string) =>
  countRuns(p.dir).filter((line) => line === name || line.startsWith(`${name} `));

describe("call claims", () => {
  const backends = useBackendProjects();

  for (const dialect of DIALECTS) {
    test(`[${dialect}] a claim goes to one holder until released or expired`, async () => {
      const p = await backends.project(dialect);
      assert.equal(p.redun(["init"]).code, 0);
      const backend = await Backend.open({
        dbUri: p.db.uri,
        sqlitePath: p.db.dialect === "sqlite" ? p.db.file : undefined,
        connection: { env: p.env },
      });
      try {
        const db = backend.db;
        assert.equal(backend.schemaVersion, 3);
        const t0 = Date.now();
        assert.deepEqual(
          [...(await claimCalls(backend.handle, "a", ["x", "y"], 1000, t0)).held].sort(),
          ["x", "y"],
        );
        assert.deepEqual(
          [...(await claimCalls(backend.handle, "b", ["x", "z"], 1000, t0 + 10)).held],
          ["z"],
        );
        assert.deepEqual(
          [...(await claimCalls(backend.handle, "a", ["x"], 1000, t0 + 20)).held],
          ["x"],
          "its own",
        );
        // a's lease on y runs out unless renewed; renewing keeps x and y.
        await renewClaims(db, "a", 1000, t0 + 900);
        assert.deepEqual(
          [...(await claimCalls(backend.handle, "b", ["y"], 1000, t0 + 1500)).held],
          [],
        );
        assert.deepEqual(
          [...(await claimCalls(backend.handle, "b", ["y"], 1000, t0 + 2000)).held],
          ["y"],
          "expired",
        );
        await releaseClaims(backend.handle, "a", ["x"]);
        assert.deepEqual(
          [...(await claimCalls(backend.handle, "b", ["x"], 1000, t0 + 2000)).held],
          ["x"],
          "released",
        );
        // A claim says which of the calls it got have their evaluation recorded already.
        await db
          .insertInto("evaluation")
          .values({ eval_hash: "w", task_hash: "t", args_hash: "a", value_hash: "v" })
          .execute();
        const claims = await claimCalls(backend.handle, "b", ["v", "w"], 1000, t0 + 2000);
        assert.deepEqual([[...claims.held].sort(), [...claims.recorded]], [["v", "w"], ["w"]]);
        await releaseClaims(backend.handle, "b");
        const left = await db.selectFrom("call_claim").selectAll().execute();
        assert.deepEqual(left, []);
      } finally {
        await backend.close();
      }
    });

    test(`[${dialect}] four schedulers started together run each call once`, async () => {
      const p = await backends.project(dialect);
      assert.equal(p.redun(["init"]).code, 0, "the schema exists before the race");
      const n = 60;
      const runs = Array.from({ length: 4 }, () =>
        start(p, ["run", FLOW, "main", "--n", String(n)], { WORK_MS: "150" }),
      );
      const results = await Promise.all(runs.map((r) => r.done));
      for (const r of results) {
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), String(n * (n - 1)));
      }
      assert.equal(bodies(p, "work").length, n, "each work call ran once in all");
      assert.equal(new Set(bodies(p, "work")).size, n);
      assert.equal(bodies(p, "main").length, 1);
      const claims = await p.query("select * from call_claim");
      assert.deepEqual(claims, [], "every claim was released");
    });

    test(`[${dialect}] a killed scheduler's calls are taken over when its lease runs out`, async () => {
      const p = await backends.project(dialect);
      setLease(p, 1);
      assert.equal(p.redun(["init"]).code, 0);
      const first = start(p, ["run", FLOW, "main", "--n", "4"], { WORK_MS: "60000" });
      const deadline = Date.now() + 60_000;
      while (bodies(p, "work").length < 4) {
        assert.ok(Date.now() < deadline, "the first scheduler started its calls");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      first.child.kill("SIGKILL");
      await first.done;
      assert.ok((await p.query("select * from call_claim")).length >= 4, "the 4 work calls");
      // The calls are still claimed (their lease has up to a second to go): the second
      // scheduler waits, then takes them over.
      const second = p.redun(["run", FLOW, "main", "--n", "4"], { WORK_MS: "10" });
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.stdout.trim(), "12");
      assert.equal(bodies(p, "work").length, 8, "each call again, after the kill");
      assert.deepEqual(await p.query("select * from call_claim"), []);
    });
  }
});
