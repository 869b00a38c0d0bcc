/**
 * What `redun run` prints while it runs, and the tags it records. A line per job as redun
 * prints them (`Run Job`, `Cached Job`, `Done Job`, `Failed Job`, `Recovered Job`) with file
 * arguments by their distinguishing end, a `Start Execution` line, `--log-level` and
 * `[scheduler] log_level`; the live progress display on a real pseudo-terminal (util-linux
 * `script`) and plain lines on a pipe; a failure recovered by `catch_` counted RECOVERED, and
 * its execution DONE. Tags (SQLite and PostgreSQL): redun's own (`redun.version`, `user`,
 * `project`, `git_commit`, `git_origin_url`), `[tags]`, `--tag`, the task option `tags`, and
 * `redun tag update`; `redun log --tag` finds them.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { useBackendProjects, type Project } from "./helpers/backend.ts";
import { BIN, makeProject, redun, writeFile } from "./helpers/cli.ts";

const WORKFLOW = `import { File, namespace, catch_ } from "redun";
const { task } = namespace("acme");
export const inc = task(function inc(x: number) {
  return x + 1;
});
export const boom = task(function boom(x: number): number {
  throw new Error("boom " + x);
});
export const rescue = task(function rescue(e: Error) {
  return -1;
});
export const write = task(async function write(name: string) {
  const file = new File("data/some/deeply/nested/directory/of/outputs/" + name + ".txt");
  await file.write(name);
  return file;
});
export const size = task({ tags: { step: "measure" } }, async function size(f: File) {
  return (await f.read()).length;
});
export const main = task(function main(n: number) {
  return [inc(n), catch_(boom(n), Error, rescue), size(write("sample"))];
});
`;

const version = JSON.parse(
  fs.readFileSync(new URL("../package.json", import.meta.url), "utf8"),
).version;

describe("redun run: job lines, log levels and the progress display", () => {
  let dir: string;
  const run = (...args: string[]) => redun(dir, ["run", ...args]);

  before(() => {
    dir = makeProject({ "wf.ts": WORKFLOW });
    writeFile(dir, ".redun/redun.ini", "[scheduler]\njob_status_interval = 0\n");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("a line per job, the start of the execution, and a recovered failure", () => {
    const r = run("wf.ts", "main", "--n", "3");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "[ 4, -1, 6 ]\n");
    const execution =
      /\[redun\] Start Execution ([0-9a-f-]{36}):  redun run wf\.ts main --n 3\n/.exec(
        r.stderr,
      )?.[1];
    assert.ok(execution, r.stderr);
    assert.match(r.stderr, /\[redun\] Run {4}Job [0-9a-f]{8}: acme\.main\(n=3\) on default\n/);
    assert.match(r.stderr, /\[redun\] Run {4}Job [0-9a-f]{8}: acme\.inc\(x=3\) on default\n/);
    assert.match(r.stderr, /\[redun\] Done {3}Job [0-9a-f]{8}: acme\.inc\(x=3\) \(\d+\.\d\d s\)\n/);
    assert.match(
      r.stderr,
      /\[redun\] Failed Job ([0-9a-f]{8}): acme\.boom\(x=3\): Error: boom 3\n/,
    );
    assert.match(r.stderr, /\[redun\] Recovered Job [0-9a-f]{8}: acme\.boom\(x=3\): its error/);
    // A file argument keeps its end, not a cut-off directory.
    assert.match(r.stderr, /acme\.size\(f=File\(…\/[a-z/]*outputs\/sample\.txt\)\) on default/);
    const header = r.stderr.split("\n").find((l) => l.includes("TASK"))!;
    assert.match(header, /FAILED +RECOVERED +CACHED/);
    const boom = r.stderr.split("\n").find((l) => /^\[redun\] +acme\.boom /.test(l))!;
    // PENDING RUNNING FAILED RECOVERED CACHED DONE TOTAL
    assert.deepEqual(boom.trim().split(/\s+/).slice(2), ["0", "0", "0", "1", "0", "0", "1"]);
    // Plain lines on a pipe: no escape sequences.
    assert.doesNotMatch(r.stderr, /\x1b\[/);
    // The run succeeded: its execution is DONE although a job failed (and is recorded so).
    const log = JSON.parse(redun(dir, ["log", execution, "--format", "json"]).stdout);
    assert.equal(log.execution.status, "DONE");
    assert.equal(log.execution.jobCounts.FAILED, 1);
  });

  test("a rerun prints Cached lines and runs nothing", () => {
    const r = run("wf.ts", "main", "--n", "3");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[redun\] Cached Job [0-9a-f]{8}: acme\.main\(n=3\)\n/);
    assert.doesNotMatch(r.stderr, /Run {4}Job/);
  });

  test("--log-level and [scheduler] log_level", () => {
    const quiet = run("--log-level", "warning", "wf.ts", "main", "--n", "4");
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stdout, "[ 5, -1, 6 ]\n");
    // A failure is a warning; job lines, tables and the config line are not.
    assert.match(quiet.stderr, /Failed Job [0-9a-f]{8}: acme\.boom\(x=4\)/);
    assert.doesNotMatch(quiet.stderr, /Run {4}Job|Done {3}Job|Jobs:|Config dir|Start Execution/);

    const debug = run("--log-level", "DEBUG", "--no-cache", "wf.ts", "main", "--n", "4");
    assert.equal(debug.code, 0, debug.stderr);
    assert.match(
      debug.stderr,
      /Run {4}Job [0-9a-f]{8}: acme\.inc\(x=4\) \(eval_hash=[0-9a-f]{8}\)/,
    );
    assert.match(debug.stderr, /Done {3}Job .* \(call_hash=[0-9a-f]{8}\)/);

    writeFile(dir, ".redun/redun.ini", "[scheduler]\njob_status_interval = 0\nlog_level = ERROR\n");
    try {
      const silent = run("--no-cache", "wf.ts", "main", "--n", "5");
      assert.equal(silent.code, 0, silent.stderr);
      assert.equal(silent.stderr, "");
      // The command line wins over the configuration.
      const info = run("--log-level", "info", "wf.ts", "main", "--n", "5");
      assert.match(info.stderr, /Cached Job/);
    } finally {
      writeFile(dir, ".redun/redun.ini", "[scheduler]\njob_status_interval = 0\n");
    }

    const bad = run("--log-level", "loud", "wf.ts", "main", "--n", "5");
    assert.notEqual(bad.code, 0);
    assert.equal(
      bad.stderr.trim(),
      'redun: error: --log-level expects one of DEBUG, INFO, WARNING, ERROR, got "loud"',
    );
    writeFile(dir, ".redun/redun.ini", "[scheduler]\nlog_level = chatty\n");
    try {
      const badIni = run("wf.ts", "main", "--n", "5");
      assert.notEqual(badIni.code, 0);
      assert.match(badIni.stderr, /\[scheduler\].*log_level.*DEBUG, INFO, WARNING, ERROR/);
      assert.doesNotMatch(badIni.stderr, /\n\s+at /);
    } finally {
      writeFile(dir, ".redun/redun.ini", "[scheduler]\njob_status_interval = 0\n");
    }
  });

  test("on a terminal, a live display redrawn in place, then the job table", (t) => {
    if (spawnSync("script", ["--version"]).status !== 0) {
      t.skip("util-linux `script` (a pseudo-terminal) is not installed");
      return;
    }
    const command = [
      "stty rows 40 cols 120;",
      JSON.stringify(process.execPath),
      JSON.stringify(BIN),
      "run --no-cache wf.ts main --n 7",
    ].join(" ");
    const { CI: _ci, ...env } = process.env;
    const r = spawnSync("script", ["-qec", command, "/dev/null"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...env, TERM: "xterm", REDUN_CONFIG: "" },
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stdout);
    const out = r.stdout.replace(/\r/g, "");
    assert.match(out, /\[redun\] Progress \(\d+\.\d s\):/, "the display");
    assert.match(out, /\x1b\[2K/, "lines erased to redraw in place");
    assert.match(out, /Run {4}Job [0-9a-f]{8}: acme\.inc\(x=7\)/, "job lines above it");
    assert.match(out, /\[redun\] Jobs:\n/, "the table at the end");
    assert.match(out, /\[ 8, -1, 6 \]/);
  });
});

for (const dialect of ["sqlite", "postgresql"] as const) {
  describe(`[${dialect}] execution and job tags`, () => {
    const backends = useBackendProjects();
    let p: Project;
    let commit: string;

    before(async () => {
      p = await backends.project(dialect);
      writeFile(p.dir, "wf.ts", WORKFLOW);
      const git = (...args: string[]) => {
        const r = spawnSync("git", args, { cwd: p.dir, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        return r.stdout.trim();
      };
      git("init", "-q", ".");
      git("remote", "add", "origin", "https://git.example.com/acme/pipelines.git");
      git("add", "wf.ts");
      git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "wf");
      commit = git("rev-parse", "HEAD");
      const ini = path.join(p.dir, ".redun", "redun.ini");
      fs.appendFileSync(ini, "\n[tags]\nteam = bio\npriority = 2\n");
    });

    test("redun's own tags, [tags], --tag and the task option tags", () => {
      const r = p.redun([
        "run",
        "--tag",
        "run=first",
        "--tag",
        "team=chem",
        "wf.ts",
        "main",
        "--n",
        "1",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const [execution] = JSON.parse(p.redun(["log", "--format", "json"]).stdout).executions;
      const tags = Object.fromEntries(execution.tags.map((t: any) => [t.key, t.value]));
      assert.equal(tags["redun.version"], version);
      assert.equal(typeof tags.user, "string");
      assert.equal(tags.project, "acme");
      assert.equal(tags.git_commit, commit);
      assert.equal(tags.git_origin_url, "https://git.example.com/acme/pipelines.git");
      assert.equal(tags.priority, 2, "a [tags] value is JSON when it parses");
      assert.equal(tags.team, "chem", "--tag wins over [tags]");
      assert.equal(tags.run, "first");

      const found = JSON.parse(p.redun(["log", "--tag", "run=first", "--format", "json"]).stdout);
      assert.deepEqual(
        found.executions.map((e: any) => e.id),
        [execution.id],
      );

      // The task option: on each job of the task.
      const jobs = JSON.parse(p.redun(["log", execution.id, "--format", "json"]).stdout).jobs;
      const all = jobs.flatMap(function flat(j: any): any[] {
        return [j, ...j.children.flatMap(flat)];
      });
      const sizeJob = all.find((j: any) => j.taskName === "acme.size");
      const jobTags = JSON.parse(p.redun(["tag", "list", sizeJob.id, "--format", "json"]).stdout);
      assert.deepEqual(
        jobTags.map((t: any) => [t.key, t.value]),
        [["step", "measure"]],
      );
    });

    test("redun tag update replaces a key's value", () => {
      const [execution] = JSON.parse(p.redun(["log", "--format", "json"]).stdout).executions;
      const r = p.redun(["tag", "update", execution.id, "run=second"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /1 old value\(s\) replaced/);
      const tags = JSON.parse(p.redun(["tag", "list", execution.id, "--format", "json"]).stdout);
      assert.deepEqual(
        tags.filter((t: any) => t.key === "run").map((t: any) => t.value),
        ["second"],
      );
      const none = JSON.parse(p.redun(["log", "--tag", "run=first", "--format", "json"]).stdout);
      assert.deepEqual(none.executions, []);
    });
  });
}
