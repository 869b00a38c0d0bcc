/**
 * `redun log` across executions, on SQLite and PostgreSQL: `--why` says why a job ran (its
 * task's code changed, with a diff; which argument changed; a file that changed; never run
 * before) or why it was replayed; `-` and `~N` name the latest executions; a task's name shows
 * its versions and executions; `--job-status` and `--since` list jobs and executions.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { before, describe, test } from "node:test";
import { useBackendProjects, type Project } from "./helpers/backend.ts";
import { writeFile } from "./helpers/cli.ts";

const WORKFLOW = (body: string) => `import { File, namespace } from "redun";
const { task } = namespace("why");
export const double = task(function double(x: number) {
  return ${body};
});
export const size = task(async function size(f: File) {
  return (await f.read()).length;
});
export const main = task(function main(x: number, y: number) {
  return [double(x), double(y)];
});
`;

const json = (text: string) => JSON.parse(text);

for (const dialect of ["sqlite", "postgresql"] as const) {
  describe(`[${dialect}] redun log: why jobs ran, and queries across executions`, () => {
    const backends = useBackendProjects();
    let p: Project;
    const run = (...args: string[]) => {
      const r = p.redun(["run", "wf.ts", ...args]);
      assert.equal(r.code, 0, r.stderr);
      return r;
    };
    const log = (...args: string[]) => {
      const r = p.redun(["log", ...args]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    /** The job of `why.double(x=X)` in the latest execution. */
    const doubleJob = (x: number): string => {
      const tree = json(log("-", "--format", "json")).jobs;
      const all = tree.flatMap((j: any) => [j, ...j.children]);
      const job = all.find((j: any) => j.call === `why.double(x=${x})`);
      assert.ok(job, `a double(x=${x}) job in ${JSON.stringify(all.map((j: any) => j.call))}`);
      return job.id;
    };

    before(async () => {
      p = await backends.project(dialect);
      writeFile(p.dir, "wf.ts", WORKFLOW("x * 2"));
      writeFile(p.dir, "data.txt", "abc");
    });

    test("a first run: never run before", () => {
      run("main", "--x", "1", "--y", "2");
      const why = json(log("--why", doubleJob(1), "--format", "json"));
      assert.equal(why.verdict, "ran");
      assert.match(why.reasons[0], /never run before/);
      assert.equal(why.comparedTo, null);
    });

    test("a replayed job names the job that recorded what it replayed", () => {
      const first = doubleJob(1);
      run("main", "--x", "1", "--y", "3");
      const why = json(log("--why", doubleJob(1), "--format", "json"));
      assert.equal(why.verdict, "replayed");
      assert.match(why.reasons[0], /Replayed from the cache/);
      assert.equal(why.comparedTo.jobId, first);
      assert.match(log("--why", doubleJob(1)), /Replayed call [0-9a-f]{8}/);
    });

    test("a new argument: which one, before and after", () => {
      const why = json(log("--why", doubleJob(3), "--format", "json"));
      assert.equal(why.verdict, "ran");
      assert.match(why.reasons[0], /Its arguments changed: x\./);
      assert.deepEqual(why.changedArguments, [{ name: "x", before: "2", after: "3" }]);
    });

    test("changed code: the reason, and a diff of the task's source", () => {
      writeFile(p.dir, "wf.ts", WORKFLOW("x * 2 + 0"));
      run("main", "--x", "1", "--y", "3");
      const why = json(log("--why", doubleJob(1), "--format", "json"));
      assert.match(why.reasons[0], /The code of task why\.double changed/);
      assert.match(why.sourceDiff, /^-\s+return x \* 2 ;$/m);
      assert.match(why.sourceDiff, /^\+\s+return x \* 2 \+ 0 ;$/m);
      const text = log("--why", doubleJob(1));
      assert.match(text, /Source diff/);
      assert.match(text, /\+\s+return x \* 2 \+ 0 ;/);
    });

    test("a changed file: named by its path", () => {
      run("size", "--f", "data.txt");
      fs.writeFileSync(path.join(p.dir, "data.txt"), "abcdef");
      run("size", "--f", "data.txt");
      const jobs = json(log("-", "--format", "json")).jobs;
      const why = json(log("--why", jobs[0].id, "--format", "json"));
      assert.equal(why.changedArguments.length, 1);
      assert.equal(why.changedArguments[0].name, "f");
      assert.equal(why.changedArguments[0].file, path.join(p.dir, "data.txt"));
      assert.match(log("--why", jobs[0].id), /\(file .*data\.txt changed\)/);
    });

    test("- and ~N name the latest executions; a task name lists its versions", () => {
      const executions = json(log("--format", "json")).executions;
      assert.equal(executions.length, 5);
      assert.equal(json(log("-", "--format", "json")).execution.id, executions[0].id);
      assert.equal(json(log("~3", "--format", "json")).execution.id, executions[2].id);
      const bad = p.redun(["log", "~9"]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /^redun: error: There are fewer than 9 executions\.$/m);
      const history = json(log("why.double", "--format", "json")).tasks;
      assert.equal(history.length, 1);
      assert.equal(history[0].versions.length, 2, "two versions of its code");
      assert.equal(history[0].executions.length, 3);
      assert.match(log("double"), /^Task why\.double: 2 version\(s\)$/m);
    });

    test("--job-status and --since list jobs and executions", () => {
      const cached = json(log("--job-status", "cached", "--format", "json")).jobs;
      assert.ok(cached.length >= 2);
      assert.ok(cached.every((j: any) => j.status === "CACHED"));
      const ofTask = json(log("--job-status", "DONE", "--task", "why.size", "--format", "json"));
      assert.equal(ofTask.jobs.length, 2);
      assert.equal(json(log("--since", "1h", "--format", "json")).executions.length, 5);
      assert.equal(json(log("--since", "2099-01-01", "--format", "json")).executions.length, 0);
      const bad = p.redun(["log", "--since", "yesterday"]);
      assert.equal(bad.code, 1);
      assert.match(
        bad.stderr,
        /^redun: error: --since expects a date or time .* got "yesterday"$/m,
      );
      const withId = p.redun(["log", "-", "--since", "1h"]);
      assert.equal(withId.code, 1);
      assert.match(withId.stderr, /filter lists: give no id/);
    });
  });
}
