/**
 * Parameter defaults are part of a call: bound by the scheduler into every call (from code and
 * from `redun run`), so that a changed default input reruns the task, and a default it cannot
 * bind gets a warning at definition. Tasks live in fixtures/defaults/defaults.ts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Dir, File } from "../src/index.ts";
import { SchedulerExpression } from "../src/expressions/expression.ts";
import { flushWarnings } from "../src/api/warnings.ts";
import { bindDefaultArgs } from "../src/scheduler/default-args.ts";
import * as d from "./fixtures/defaults/defaults.ts";
import { makeProject, redun, writeFile } from "./helpers/cli.ts";
import { tempDir, withEnv } from "./helpers/engine.ts";
import {
  backendIni,
  createTestDatabase,
  forEachDialect,
  withDialectEnv,
} from "./helpers/dialects.ts";

// Warnings given while the fixture was defined, before any test flushes them elsewhere.
const definitionWarnings: string[] = [];
flushWarnings(new Set(), (line) => definitionWarnings.push(line));

describe("bindDefaultArgs", () => {
  it("fills missing and undefined arguments with literal defaults", () => {
    assert.deepEqual(bindDefaultArgs(d.add, [1]), [1, 10]);
    assert.deepEqual(bindDefaultArgs(d.add, [1, undefined]), [1, 10]);
    const given = [1, 5];
    assert.equal(bindDefaultArgs(d.add, given), given, "nothing to bind: the same array");
    // null is a value, not a missing argument.
    assert.deepEqual(bindDefaultArgs(d.add, [1, null]), [1, null]);
  });

  it("evaluates every kind of literal, with fresh arrays and objects each call", () => {
    const first = bindDefaultArgs(d.literals, []);
    assert.deepEqual(first, [
      -1.5,
      "it's",
      "tmpl",
      true,
      null,
      undefined,
      -12n,
      [1, "two", [3]],
      { k: { deep: false }, "quoted-key": 0 },
    ]);
    const second = bindDefaultArgs(d.literals, []);
    assert.notEqual(first[7], second[7]);
    assert.notEqual(first[8], second[8]);
  });

  it("constructs File and Dir defaults, options included", () => {
    const [input, hashed, folder] = bindDefaultArgs(d.files, []) as [File, File, Dir];
    assert.ok(input instanceof File);
    assert.equal(input.path, "data/in.txt");
    assert.equal(input.hashMode, "stat");
    assert.ok(hashed instanceof File);
    assert.equal(hashed.hashMode, "content");
    assert.ok(folder instanceof Dir);
    assert.equal(folder.path, "data");
  });

  it("turns getContext defaults into context expressions", () => {
    const [threads, mode] = bindDefaultArgs(d.fromContext, []) as SchedulerExpression[];
    assert.ok(threads instanceof SchedulerExpression);
    assert.equal(threads.op, "context");
    assert.deepEqual(threads.args, ["tool.threads", 4]);
    assert.ok(mode instanceof SchedulerExpression);
    assert.deepEqual(mode.args, ["tool.mode", undefined]);
  });

  it("leaves opaque and derived defaults to the function, dropping trailing undefineds", () => {
    assert.deepEqual(bindDefaultArgs(d.opaque, [2]), [2]);
    assert.deepEqual(bindDefaultArgs(d.opaque, [2, undefined]), [2]);
    assert.deepEqual(bindDefaultArgs(d.derived, ["x", undefined]), ["x"]);
  });

  it("binds before a rest parameter and leaves the rest's arguments alone", () => {
    assert.deepEqual(bindDefaultArgs(d.withRest, []), ["a"]);
    assert.deepEqual(bindDefaultArgs(d.withRest, [undefined, "b"]), ["a", "b"]);
    assert.deepEqual(bindDefaultArgs(d.withRest, ["x", undefined]), ["x", undefined]);
  });
});

describe("default warnings", () => {
  it("warns at definition about a default the scheduler cannot bind, naming the fix", () => {
    const lines = definitionWarnings.filter((l) => l.includes("warning (defaults)"));
    assert.equal(lines.length, 1, lines.join(""));
    const line = lines[0]!;
    assert.match(line, /task "defaults\.opaque"/);
    assert.match(line, /parameter "limit" \(threshold\)/);
    assert.match(line, /pass the argument explicitly/);
    assert.match(line, /hashIncludes/);
  });
});

describe("defaults through the scheduler", () => {
  forEachDialect((dialect) => {
    it(`[${dialect}] add(1) and add(1, 10) with b = 10 are one cache entry`, async () => {
      await withDialectEnv(dialect, { mode: "inline" }, async ({ scheduler, query }) => {
        assert.equal(await scheduler.run(d.add(1)), 11);
        assert.equal(await scheduler.run(d.add(1, 10)), 11);
        assert.equal(await scheduler.run(d.add(1, undefined)), 11);
        const jobs = await query<{ cached: number }>(
          "select cached from job where task_hash = ? order by start_time",
          d.add.hash,
        );
        assert.deepEqual(
          jobs.map((j) => j.cached),
          [0, 1, 1],
        );
        const evaluations = () => query("select * from evaluation where task_hash = ?", d.add.hash);
        assert.equal((await evaluations()).length, 1);
        assert.equal(await scheduler.run(d.add(1, 5)), 6);
        assert.equal((await evaluations()).length, 2);
      });
    });
  });

  it("evaluates getContext defaults in the call's context", async () => {
    await withEnv({ mode: "inline" }, async ({ scheduler }) => {
      assert.deepEqual(await scheduler.run(d.fromContext()), [4, undefined]);
      assert.deepEqual(
        await scheduler.run(d.fromContext(), { context: { tool: { threads: 8, mode: "fast" } } }),
        [8, "fast"],
      );
    });
  });

  it("keeps the function's own default for an opaque one", async () => {
    await withEnv({ mode: "inline" }, async ({ scheduler }) => {
      assert.equal(await scheduler.run(d.opaque(5)), true);
      assert.equal(await scheduler.run(d.derived("x")), "x.out");
    });
  });

  forEachDialect((dialect) => {
    it(`[${dialect}] reruns a task whose default File changed`, async () => {
      await withDialectEnv(dialect, { mode: "inline" }, async ({ scheduler, dir, query }) => {
        const cwd = process.cwd();
        process.chdir(dir);
        try {
          fs.writeFileSync("words.txt", "one two three");
          assert.equal(await scheduler.run(d.countWords()), 3);
          assert.equal(await scheduler.run(d.countWords()), 3);
          fs.writeFileSync("words.txt", "one two three four five");
          assert.equal(await scheduler.run(d.countWords()), 5);
          const jobs = await query<{ cached: number }>(
            "select cached from job where task_hash = ? order by start_time",
            d.countWords.hash,
          );
          assert.deepEqual(
            jobs.map((j) => j.cached),
            [0, 1, 0],
          );
        } finally {
          process.chdir(cwd);
        }
      });
    });
  });
});

const INI = `
[scheduler]
job_status_interval = 0
ignore_warnings = namespace

[executors.default]
type = local
mode = thread
max_workers = 2
`;

const WORD_COUNT = `
import fs from "node:fs";
import { namespace, File } from "redun";
const { task } = namespace("wc");

export const main = task(function main(urlsFile = new File("urls.txt")) {
  fs.appendFileSync("runs.log", "main\\n");
  return fs.readFileSync(urlsFile.path, "utf8").split(/\\s+/).filter(Boolean).length;
});

export const stamp = task(function stamp(at = Date.now()) {
  return at > 0;
});
`;

const SPY = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "fixtures",
  "defaults",
  "typescript-spy.cjs",
);

describe("defaults through redun run", () => {
  forEachDialect((dialect) => {
    it(`[${dialect}] reruns main(urlsFile = new File('urls.txt')) after urls.txt changes`, async () => {
      const dbDir = tempDir();
      const db = await createTestDatabase(dialect, dbDir);
      const dir = makeProject({
        ".redun/redun.ini": backendIni(db) + INI,
        "workflow.ts": WORD_COUNT,
      });
      const env = { ...db.env, REDUN_CACHE_DIR: path.join(dir, "cache") };
      try {
        writeFile(dir, "urls.txt", "a b c");
        const first = redun(dir, ["run", "workflow.ts", "main"], env);
        assert.equal(first.code, 0, first.stderr);
        assert.equal(first.stdout.trim(), "3");
        // The opaque default of another task in the file is named in a warning.
        assert.match(first.stderr, /warning \(defaults\): task "wc\.stamp".*parameter "at"/);
        assert.doesNotMatch(first.stderr, /task "wc\.main"/);

        const again = redun(dir, ["run", "workflow.ts", "main"], env);
        assert.equal(again.stdout.trim(), "3");
        assert.equal(fs.readFileSync(path.join(dir, "runs.log"), "utf8"), "main\n");

        writeFile(dir, "urls.txt", "a b c d e");
        const changed = redun(dir, ["run", "workflow.ts", "main"], env);
        assert.equal(changed.code, 0, changed.stderr);
        assert.equal(changed.stdout.trim(), "5");
        assert.equal(fs.readFileSync(path.join(dir, "runs.log"), "utf8"), "main\nmain\n");
      } finally {
        await db.close();
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(dbDir, { recursive: true, force: true });
      }
    });
  });

  it("does not load typescript when the workflow's analysis is cached", () => {
    const dir = makeProject({
      ".redun/redun.ini": "[backend]\ndb_uri = sqlite:///redun.db\n" + INI,
      "workflow.ts": WORD_COUNT,
    });
    const log = path.join(dir, "typescript.log");
    const env = {
      REDUN_CACHE_DIR: path.join(dir, "cache"),
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require ${SPY}`,
      TS_SPY_LOG: log,
    };
    const loads = () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "");
    try {
      writeFile(dir, "urls.txt", "a b c");
      const first = redun(dir, ["run", "workflow.ts", "main"], env);
      assert.equal(first.code, 0, first.stderr);
      assert.notEqual(loads(), "", "the first run parses the workflow (the spy works)");
      fs.rmSync(log);

      const second = redun(dir, ["run", "workflow.ts", "main"], env);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.stdout.trim(), "3");
      assert.equal(loads(), "", "a cached run loads no typescript");

      // An edited file is parsed again.
      writeFile(dir, "workflow.ts", WORD_COUNT + "\nexport const extra = 1;\n");
      const edited = redun(dir, ["run", "workflow.ts", "main", "--help"], env);
      assert.equal(edited.code, 0, edited.stderr);
      assert.notEqual(loads(), "");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
