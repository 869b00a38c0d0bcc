/**
 * Workflows over real files in temp directories: incremental reruns when an input changes,
 * reruns when an output is deleted, script tasks on every executor mode, script failures.
 * What reads the cache (incremental reruns, script tasks replayed or rerun) runs on SQLite and
 * on PostgreSQL; script failures and executors, which do not touch the backend, on SQLite.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { Dir, File, ScriptError, script } from "../src/index.ts";
import { STDOUT } from "../src/files/script.ts";
import { lines, withEnv, type Mode } from "./helpers/engine.ts";
import { forEachDialect, withDialectEnv, type DialectName } from "./helpers/dialects.ts";
import * as wf from "./fixtures/workflows/files-flow.ts";

/** Three input files in `DIR/in`; returns the directory. */
function makeInputs(dir: string): string {
  const input = path.join(dir, "in");
  fs.mkdirSync(input, { recursive: true });
  fs.writeFileSync(path.join(input, "a.txt"), "alpha\n");
  fs.writeFileSync(path.join(input, "b.txt"), "bravo\n");
  fs.writeFileSync(path.join(input, "c.txt"), "charlie\n");
  fs.writeFileSync(path.join(input, "notes.md"), "not an input\n");
  return input;
}

/** Sets a file's modification time to a fixed moment (a "touch" that cannot be too fast to see). */
function touch(file: string, seconds: number): void {
  const when = new Date(Date.UTC(2001, 0, 1) + seconds * 1000);
  fs.utimesSync(file, when, when);
}

describe("incremental workflows over local files", () => {
  // Every worker mode on SQLite; on PostgreSQL one is enough (the database part is the same).
  const modes: [DialectName, Mode][] = [
    ["sqlite", "thread"],
    ["sqlite", "process"],
    ["sqlite", "inline"],
    ["postgresql", "inline"],
  ];
  for (const [dialect, mode] of modes) {
    it(`[${dialect}] touching one input reruns only its branch (${mode})`, async () => {
      await withDialectEnv(dialect, { mode }, async ({ scheduler, dir, file }) => {
        const input = makeInputs(dir);
        const out = file("out");
        const counter = file("runs.log");
        const run = () => scheduler.run(wf.pipeline(new Dir(input), out, counter));

        const first = (await run()) as File;
        assert.ok(first instanceof File);
        assert.equal(first.path, `${out}/all.txt`);
        assert.equal(await first.read(), "ALPHA\nBRAVO\nCHARLIE\n");
        assert.deepEqual(lines(counter).sort(), [
          "merge",
          "pipeline",
          "upper a.txt",
          "upper b.txt",
          "upper c.txt",
        ]);

        fs.rmSync(counter, { force: true });
        await run();
        assert.deepEqual(lines(counter), [], "a second run replays everything");

        touch(path.join(input, "b.txt"), 1);
        const third = (await run()) as File;
        assert.deepEqual(lines(counter).sort(), ["merge", "pipeline", "upper b.txt"]);
        assert.equal(await third.read(), "ALPHA\nBRAVO\nCHARLIE\n");

        fs.rmSync(counter, { force: true });
        fs.writeFileSync(path.join(input, "c.txt"), "charlie changed\n");
        const fourth = (await run()) as File;
        assert.deepEqual(lines(counter).sort(), ["merge", "pipeline", "upper c.txt"]);
        assert.equal(await fourth.read(), "ALPHA\nBRAVO\nCHARLIE CHANGED\n");
      });
    });
  }

  forEachDialect((dialect) => {
    it(`[${dialect}] deleting an output reruns its producer (and what uses it), nothing else`, async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, dir, file }) => {
        const input = makeInputs(dir);
        const out = file("out");
        const counter = file("runs.log");
        const run = () => scheduler.run(wf.pipeline(new Dir(input), out, counter));
        await run();
        fs.rmSync(counter, { force: true });

        fs.rmSync(path.join(out, "a.txt.upper"));
        await run();
        assert.deepEqual(lines(counter).sort(), ["merge", "upper a.txt"]);
        assert.ok(fs.existsSync(path.join(out, "a.txt.upper")));

        fs.rmSync(counter, { force: true });
        fs.rmSync(path.join(out, "all.txt"));
        await run();
        assert.deepEqual(lines(counter), ["merge"]);
        assert.equal(fs.readFileSync(path.join(out, "all.txt"), "utf8"), "ALPHA\nBRAVO\nCHARLIE\n");
      });
    });

    it(`[${dialect}] an edited output reruns its producer, which writes it again`, async () => {
      await withDialectEnv(dialect, {}, async ({ scheduler, dir, file }) => {
        const input = makeInputs(dir);
        const out = file("out");
        const counter = file("runs.log");
        await scheduler.run(wf.pipeline(new Dir(input), out, counter));
        fs.rmSync(counter, { force: true });
        fs.writeFileSync(path.join(out, "b.txt.upper"), "tampered");
        await scheduler.run(wf.pipeline(new Dir(input), out, counter));
        assert.deepEqual(lines(counter).sort(), ["merge", "upper b.txt"]);
        assert.equal(fs.readFileSync(path.join(out, "b.txt.upper"), "utf8"), "BRAVO\n");
      });
    });
  });
});

describe("script tasks", () => {
  // Cache lookups of scripts and their files: every worker mode on SQLite, one on PostgreSQL.
  const modes: [DialectName, Mode][] = [
    ["sqlite", "thread"],
    ["sqlite", "process"],
    ["sqlite", "inline"],
    ["postgresql", "inline"],
  ];
  for (const [dialect, mode] of modes) {
    it(`[${dialect}] run per file in parallel and rerun only what changed (${mode})`, async () => {
      await withDialectEnv(dialect, { mode }, async ({ scheduler, dir, file }) => {
        const input = makeInputs(dir);
        const out = file("out");
        const counter = file("runs.log");
        const run = () => scheduler.run(wf.countAll(new Dir(input), out, counter));

        assert.equal(await run(), 6 + 6 + 8);
        assert.deepEqual(lines(counter).sort(), [
          "count a.txt",
          "count b.txt",
          "count c.txt",
          "total",
        ]);
        assert.equal(fs.readFileSync(path.join(out, "c.txt.count"), "utf8"), "8\n");

        fs.rmSync(counter, { force: true });
        assert.equal(await run(), 20);
        assert.deepEqual(lines(counter), []);
        assert.equal(scheduler.status.count("redun.script", "CACHED"), 3);

        fs.rmSync(counter, { force: true });
        fs.writeFileSync(path.join(input, "a.txt"), "alpha, longer\n");
        assert.equal(await run(), 14 + 6 + 8);
        assert.deepEqual(lines(counter).sort(), ["count a.txt", "total"]);

        fs.rmSync(counter, { force: true });
        fs.rmSync(path.join(out, "b.txt.count"));
        assert.equal(await run(), 28);
        // The rewritten output has a new mtime, so its consumer reruns too.
        assert.deepEqual(lines(counter).sort(), ["count b.txt", "total"]);
        assert.equal(fs.readFileSync(path.join(out, "b.txt.count"), "utf8"), "6\n");
      });
    });
  }

  it("run on the executor their options name", async () => {
    await withEnv(
      { mode: "inline", executors: { procs: { mode: "process" } } },
      async ({ scheduler, dir, file }) => {
        const input = makeInputs(dir);
        const counter = file("runs.log");
        const result = await scheduler.run(
          wf.countAll(new Dir(input), file("out"), counter, "procs"),
        );
        assert.equal(result, 20);
        assert.equal(scheduler.status.count("redun.script", "DONE"), 3);
      },
    );
  });

  it("script() returns standard output when there are no outputs", async () => {
    await withEnv({ mode: "inline" }, async ({ scheduler }) => {
      const result = await scheduler.run(
        script(
          `
            for x in 1 2 3; do
              echo "line $x"
            done
          `,
        ),
      );
      assert.equal(result, "line 1\nline 2\nline 3\n");
    });
  });

  for (const [dialect, mode] of modes) {
    it(`[${dialect}] script: true runs the returned command as the task's result (${mode})`, async () => {
      await withDialectEnv(dialect, { mode }, async ({ scheduler }) => {
        const result = await scheduler.run(wf.greet("ada"));
        assert.equal(result, `hello ada from ${path.basename(process.cwd())}\n`);
        assert.equal(await scheduler.run(wf.greet("ada")), result);
        assert.equal(scheduler.status.count(wf.greet.fullname, "CACHED"), 1);
      });
    });
  }

  for (const mode of ["thread", "process", "inline"] as Mode[]) {
    it(`a script that exits 3 fails with ScriptError and its stderr (${mode})`, async () => {
      await withEnv({ mode }, async ({ scheduler }) => {
        const error = await scheduler.run(wf.failing()).then(
          () => assert.fail("the script should fail"),
          (e: unknown) => e,
        );
        assert.ok(error instanceof ScriptError, String(error));
        assert.equal(error.exitCode, 3);
        assert.match(error.message, /^script exited with code 3: the real problem: disk on fire\n/);
        assert.match(error.message, /first problem\n\s+the real problem: disk on fire/);
        assert.match(error.message, /stdout \(last 1 line\):\n\s+some output/);
        assert.match(error.stderrTail, /first problem\nthe real problem: disk on fire/);

        const other = await scheduler.run(wf.failingScript(7)).then(
          () => assert.fail("the script should fail"),
          (e: unknown) => e,
        );
        assert.ok(other instanceof ScriptError);
        assert.equal(other.exitCode, 7);
        assert.match(other.message, /failing with 7/);
      });
    });
  }

  forEachDialect((dialect) => {
    it(`[${dialect}] a failed script is not cached: it runs again`, async () => {
      await withDialectEnv(dialect, { mode: "inline" }, async ({ scheduler, file }) => {
        const flag = file("flag");
        const counter = file("runs.log");
        const command = `echo run >> '${counter}'; test -e '${flag}'; echo ok`;
        await assert.rejects(scheduler.run(script(command)), ScriptError);
        fs.writeFileSync(flag, "");
        assert.equal(await scheduler.run(script(command)), "ok\n");
        assert.equal(lines(counter).length, 2);
        assert.equal(await scheduler.run(script(command)), "ok\n");
        assert.equal(lines(counter).length, 2, "the success is cached");
      });
    });
  });

  it("runs with bash -euo pipefail: unset variables and failing pipe stages fail", async () => {
    await withEnv({ mode: "inline" }, async ({ scheduler }) => {
      const unset = await scheduler.run(script("echo $NOT_SET_ANYWHERE")).catch((e) => e);
      assert.ok(unset instanceof ScriptError);
      assert.match(unset.message, /NOT_SET_ANYWHERE/);
      const pipe = await scheduler.run(script("false | cat; echo reached")).catch((e) => e);
      assert.ok(pipe instanceof ScriptError);
      assert.equal(pipe.exitCode, 1);
      assert.doesNotMatch(pipe.stdoutTail, /reached/);
      const shebang = await scheduler.run(
        script(`#!/usr/bin/env node\nprocess.stdout.write(String(6 * 7))`),
      );
      assert.equal(shebang, "42");
    });
  });

  it("an output the command did not write is a clear error", async () => {
    await withEnv({ mode: "inline" }, async ({ scheduler, file }) => {
      const missing = file("never-written.txt");
      await assert.rejects(
        scheduler.run(script("true", { outputs: new File(missing) })),
        new RegExp(`did not write its output file ${missing.replace(/[.]/g, "\\.")}`),
      );
    });
  });

  forEachDialect((dialect) => {
    it(`[${dialect}] staging between local paths works with a temporary directory`, async () => {
      await withDialectEnv(dialect, { mode: "process" }, async ({ scheduler, dir, file }) => {
        const input = makeInputs(dir);
        const counter = file("runs.log");
        const files = [new File(path.join(input, "a.txt")), new File(path.join(input, "b.txt"))];
        const results = (await scheduler.run(
          wf.stagedAll(files, file("staged"), counter),
        )) as File[];
        assert.deepEqual(
          results.map((f) => f.path),
          [file("staged/a.txt.out"), file("staged/b.txt.out")],
        );
        assert.equal(await results[0]!.read(), "6\nALPHA\n");
        assert.deepEqual(lines(counter).sort(), ["staged a.txt", "staged b.txt"]);
        fs.rmSync(counter, { force: true });
        await scheduler.run(wf.stagedAll(files, file("staged"), counter));
        assert.deepEqual(lines(counter), []);
      });
    });
  });
});

describe('script() with an argv array, and File("-") for standard output', () => {
  it("an argv array runs with no shell: nothing is expanded or needs quoting", async () => {
    await withEnv({ mode: "inline" }, async ({ scheduler }) => {
      const result = await scheduler.run(
        script(["printf", "%s|%s\\n", "a b", "$HOME; echo 'x' > y"]),
      );
      assert.equal(result, "a b|$HOME; echo 'x' > y\n");
    });
  });

  // The output map is stored and replayed from the cache: on both dialects.
  const outputModes: [DialectName, Mode][] = [
    ["sqlite", "inline"],
    ["sqlite", "process"],
    ["postgresql", "inline"],
  ];
  for (const [dialect, mode] of outputModes) {
    it(`[${dialect}] File("-") in outputs is the command's standard output, a string (${mode})`, async () => {
      await withDialectEnv(dialect, { mode }, async ({ scheduler, file }) => {
        const out = file("out.txt");
        const counter = file("runs.log");
        const run = () =>
          scheduler.run(
            script(["sh", "-c", `echo ran >> '${counter}'; echo counted; echo data > '${out}'`], {
              outputs: { log: STDOUT, data: new File(out), raw: new File("-") },
            }),
          );
        const result = await run();
        // The static type says string where STDOUT was (File("-") is typed as a File).
        const log: string = result.log;
        assert.equal(log, "counted\n");
        assert.equal(result.raw as unknown, "counted\n");
        assert.ok(result.data instanceof File);
        assert.equal(await result.data.read(), "data\n");
        assert.deepEqual(await run(), result, "replayed from the cache");
        assert.deepEqual(lines(counter), ["ran"]);
      });
    });
  }

  for (const mode of ["inline", "process"] as Mode[]) {
    it(`a failing argv command shows the whole command (${mode})`, async () => {
      await withEnv({ mode }, async ({ scheduler }) => {
        const long = "a long argument, ".repeat(8);
        const error = await scheduler.run(script(["sh", "-c", "echo bad >&2; exit 4", long])).then(
          () => assert.fail("the command should fail"),
          (e: unknown) => e,
        );
        assert.ok(error instanceof ScriptError, String(error));
        assert.equal(error.exitCode, 4);
        assert.deepEqual(error.argv, ["sh", "-c", "echo bad >&2; exit 4", long]);
        assert.match(error.message, /^script exited with code 4: bad\n/);
        assert.ok(
          error.message.includes(`\n  command: sh -c 'echo bad >&2; exit 4' '${long}'\n`),
          error.message,
        );

        const missing = await scheduler.run(script(["no-such-program-for-redun", "x y"])).then(
          () => assert.fail("the command should fail"),
          (e: unknown) => e,
        );
        assert.ok(missing instanceof ScriptError, String(missing));
        assert.match(
          missing.message,
          /^script could not start \(spawn no-such-program-for-redun ENOENT\)\n {2}command: no-such-program-for-redun 'x y'$/,
        );
      });
    });
  }

  it("a bad argv array is a clear error when the call is made", () => {
    assert.throws(
      () => script([]),
      /^TypeError: script\(\): an argv array needs at least a program$/,
    );
    assert.throws(
      () => script(["ls", 3 as unknown as string]),
      /^TypeError: script\(\): argv\[1\] must be a string \(got number\)$/,
    );
  });
});

describe("the built-in process executor", () => {
  /**
   * The parent process id of a command run on an executor: this process for inline and
   * threads. (The executor's name is an argument too, so that no call replays another.)
   */
  const parentPid = (executor: string) =>
    script(["node", "-e", "process.stdout.write(String(process.ppid))", executor], { executor });

  it('executor: "process" runs on a local process pool without configuration', async () => {
    await withEnv({ mode: "thread" }, async ({ scheduler }) => {
      assert.equal(await scheduler.run(parentPid("default")), String(process.pid));
      const worker = await scheduler.run(parentPid("process"));
      assert.match(worker, /^\d+$/);
      assert.notEqual(worker, String(process.pid), "the command's parent is a worker process");
    });
  });

  it("a configured [executors.process] replaces it", async () => {
    await withEnv({ executors: { process: { mode: "thread" } } }, async ({ scheduler }) => {
      assert.equal(await scheduler.run(parentPid("process")), String(process.pid));
    });
  });
});
