/**
 * Moving provenance between repositories: `redun export` / `redun import` (JSON lines)
 * reproduce the same `redun log` in an empty database of the other dialect (SQLite to
 * PostgreSQL and back), and
 * `redun push` / `redun pull` between a local SQLite repository and a shared PostgreSQL
 * one are idempotent and carry the cache with them.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { jobTotals } from "./helpers/cli.ts";
import { FLOW, json, useBackendProjects, tableCounts, type Project } from "./helpers/backend.ts";
import { forEachDialect } from "./helpers/dialects.ts";

/** `redun log` views of a repository: the list, each execution, and its root job's call. */
function logViews(p: Project): string[] {
  const views: string[] = [];
  const run = (args: string[]) => {
    const result = p.redun(args);
    assert.equal(result.code, 0, result.stderr);
    views.push(result.stdout);
    return result.stdout;
  };
  run(["log"]);
  const list = JSON.parse(run(["log", "--format", "json"]));
  for (const [i, execution] of list.executions.entries()) {
    const detail = JSON.parse(run(["log", execution.id, "--format", "json"]));
    // Text once, JSON (which holds every field) for the rest.
    if (i === 0) run(["log", execution.id]);
    run(["log", detail.jobs[0].id, "--format", "json"]);
  }
  return views;
}

describe("export, import, push and pull", () => {
  const backends = useBackendProjects();
  const project = backends.project;

  forEachDialect((dialect) => {
    const other = dialect === "sqlite" ? "postgresql" : "sqlite";
    test(`[${dialect}] export, then import into an empty ${other} database, reproduces \`redun log\``, async () => {
      const source = await project(
        dialect,
        "value_store_path = values\nvalue_store_min_size = 1000\n",
      );
      for (const args of [
        ["main", "--x", "3"],
        ["fanout", "--n", "5"],
        ["bigLength", "--n", "3000"],
        ["partly", "--message", "oops"],
      ]) {
        source.redun(["run", FLOW, ...args]);
      }
      const executions = json(source.redun(["log", "--format", "json"])).executions;
      assert.equal(executions.length, 4);
      const tagged = source.redun(["tag", "add", executions[0].id.slice(0, 8), "release=1.0"]);
      assert.equal(tagged.code, 0, tagged.stderr);

      const file = path.join(source.dir, "provenance.jsonl");
      const exported = source.redun(["export", file]);
      assert.equal(exported.code, 0, exported.stderr);
      const lines = fs.readFileSync(file, "utf8").trim().split("\n");
      assert.deepEqual(JSON.parse(lines[0]!), { redun: "provenance", format: 1, schema: 3 });
      assert.match(exported.stderr, new RegExp(`Exported ${lines.length - 1} rows`));
      assert.ok(
        lines.slice(1).every((l) => JSON.parse(l).row.format !== "ref"),
        "values from the value store are exported with their bytes",
      );

      const target = await project(other);
      const imported = target.redun(["import", file]);
      assert.equal(imported.code, 0, imported.stderr);
      assert.equal(
        imported.stdout,
        `imported ${lines.length - 1} rows (${lines.length - 1} new)\n`,
      );
      assert.deepEqual(logViews(target), logViews(source));
      assert.deepEqual(await tableCounts(target.db), await tableCounts(source.db));

      const counts = await tableCounts(target.db);
      const again = target.redun(["import", file]);
      assert.equal(again.stdout, `imported ${lines.length - 1} rows (0 new)\n`);
      assert.deepEqual(await tableCounts(target.db), counts, "a second import changes nothing");

      // The imported cache is usable: the same call is replayed, not run.
      const replay = target.redun(["run", FLOW, "main", "--x", "3"]);
      assert.equal(replay.code, 0, replay.stderr);
      assert.equal(jobTotals(replay.stderr).DONE, 0);

      // One execution, and what it references.
      const fanout = executions.find((e: any) => e.args.includes("fanout"));
      const partial = path.join(source.dir, "fanout.jsonl");
      assert.equal(source.redun(["export", "--execution", fanout.id.slice(0, 8), partial]).code, 0);
      const third = await project(dialect);
      assert.equal(third.redun(["import", partial]).code, 0);
      const list = json(third.redun(["log", "--format", "json"]));
      assert.deepEqual(
        list.executions.map((e: any) => e.id),
        [fanout.id],
      );
      assert.equal(third.redun(["log", fanout.id]).stdout, source.redun(["log", fanout.id]).stdout);

      const bad = path.join(source.dir, "bad.jsonl");
      fs.writeFileSync(bad, '{"hello": 1}\n');
      const refused = target.redun(["import", bad]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^redun: error: .*bad\.jsonl: not a redun provenance export/m);
    });
  });

  test("push and pull between local SQLite and shared PostgreSQL are idempotent", async () => {
    const { uri } = await backends.pg.createDatabase();
    const alice = await project("sqlite");
    const bob = await project("sqlite");
    for (const p of [alice, bob]) Object.assign(p.env, backends.pg.env);

    assert.equal(alice.redun(["run", FLOW, "main", "--x", "3", "--y", "4"]).code, 0);
    assert.equal(alice.redun(["run", FLOW, "fanout", "--n", "6"]).code, 0);

    const unmigrated = alice.redun(["push", uri]);
    assert.equal(unmigrated.code, 1);
    assert.match(unmigrated.stderr, /run `redun db upgrade`/);

    const first = alice.redun(["push", uri, "--migrate"]);
    assert.equal(first.code, 0, first.stderr);
    const [, rows, fresh] = first.stdout.match(/^pushed (\d+) rows \((\d+) new\)\n$/)!;
    assert.equal(rows, fresh);
    const shared = {
      dialect: "postgresql" as const,
      pg: backends.pg,
      name: uri.split("/").pop()!,
      uri,
    };
    const afterFirst = await tableCounts(shared);
    assert.deepEqual(afterFirst, await tableCounts(alice.db));
    assert.equal(alice.redun(["push", uri]).stdout, `pushed ${rows} rows (0 new)\n`);
    assert.deepEqual(await tableCounts(shared), afterFirst, "pushing twice changes nothing");

    const pulled = bob.redun(["pull", uri]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(pulled.stdout, `pulled ${rows} rows (${rows} new)\n`);
    assert.equal(bob.redun(["pull", uri]).stdout, `pulled ${rows} rows (0 new)\n`);
    const cached = bob.redun(["run", FLOW, "main", "--x", "3", "--y", "4"]);
    assert.equal(cached.code, 0, cached.stderr);
    assert.equal(jobTotals(cached.stderr).DONE, 0, "Bob replays Alice's results");

    assert.equal(bob.redun(["run", FLOW, "square", "--x", "99"]).code, 0);
    assert.equal(bob.redun(["push", uri]).code, 0);
    const back = alice.redun(["pull", uri]);
    assert.match(back.stdout, /^pulled \d+ rows \([1-9]\d* new\)\n$/);
    assert.match(alice.redun(["pull", uri]).stdout, /^pulled \d+ rows \(0 new\)\n$/);
    const aliceRuns = json(alice.redun(["log", "--format", "json"])).executions;
    assert.equal(aliceRuns.length, 4, "Alice's two runs, Bob's replay and Bob's square");
    assert.equal(aliceRuns[0].args.join(" "), `run ${FLOW} square --x 99`);

    // A configuration directory is a repository too.
    const direct = alice.redun(["push", path.join(bob.dir, ".redun")]);
    assert.equal(direct.code, 0, direct.stderr);
    assert.match(direct.stdout, /^pushed \d+ rows \(0 new\)\n$/, "Bob already has everything");
    assert.deepEqual(await tableCounts(alice.db), await tableCounts(bob.db));
  });
});
