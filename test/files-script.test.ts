/**
 * Script tasks through the real `redun` command: a task's `timeout` stops the command it is
 * running (its whole process group) in every executor mode; a failing script shows its whole
 * command and keeps its job directory; a script call records no engine or Node-internal
 * module paths.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import { makeProject, redun } from "./helpers/cli.ts";

const WORKFLOW = `
import { namespace, runScript, script } from "redun";
const { task } = namespace("scripts");

// The command records its own pid and its child's, then waits far longer than the timeout.
const command = (dir: string) => \`
  echo $$ > "\${dir}/bash.pid"
  sleep 300 &
  echo $! > "\${dir}/sleep.pid"
  wait
\`;

// A script call with a timeout of its own.
export const hang = task(function hang(dir: string) {
  return script(command(dir), { timeout: 2 });
});

// A task with a timeout that runs a command itself.
export const hangInside = task({ timeout: 2 }, async function hangInside(dir: string) {
  return (await runScript(command(dir))).stdout;
});

export const failing = task(function failing() {
  return script(\`
    echo starting
    echo "the first line is fine" >&2
    false
    echo never
  \`);
});

export const ok = task(function ok() {
  return script("echo fine");
});
`;

/** Whether a process is running (a zombie, already dead but not reaped, counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state follows the parenthesized command name: `123 (sleep) S ...`.
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Waits for a condition to hold (generously: the machine is shared), or gives up. */
async function eventually(condition: () => boolean, ms = 20_000): Promise<boolean> {
  for (const start = Date.now(); Date.now() - start < ms;) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return condition();
}

function config(mode: string): string {
  return `[executors.default]\ntype = local\nmode = ${mode}\n`;
}

describe("script tasks through redun run", () => {
  const dirs: string[] = [];
  const kept: string[] = [];
  after(() => {
    for (const d of [...dirs, ...kept]) fs.rmSync(d, { recursive: true, force: true });
  });

  for (const [mode, taskName] of [
    ["inline", "hang"],
    ["thread", "hang"],
    ["process", "hang"],
    ["inline", "hangInside"],
    ["thread", "hangInside"],
    ["process", "hangInside"],
  ]) {
    test(`a timeout kills the running command and its children (${mode}, ${taskName})`, async () => {
      const dir = makeProject({ "wf.ts": WORKFLOW, ".redun/redun.ini": config(mode!) });
      dirs.push(dir);
      const result = redun(dir, ["run", "wf.ts", taskName!, "--dir", dir]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /timed out/);
      const pids = ["bash.pid", "sleep.pid"].map((f) =>
        Number(fs.readFileSync(path.join(dir, f), "utf8")),
      );
      assert.ok(pids.every((p) => p > 0));
      // `redun run` has exited: nothing it started may still be running.
      assert.ok(
        await eventually(() => pids.every((p) => !alive(p))),
        `still running: ${pids.filter(alive).join(", ")}`,
      );
    });
  }

  test("a failing script shows its whole command and keeps its job directory", () => {
    const dir = makeProject({ "wf.ts": WORKFLOW, ".redun/redun.ini": config("thread") });
    dirs.push(dir);
    const result = redun(dir, ["run", "wf.ts", "failing"]);
    assert.equal(result.code, 1, result.stderr);
    const message = result.stderr.slice(result.stderr.indexOf("ScriptError"));
    assert.match(
      message,
      /command:\n {4}echo starting\n {4}echo "the first line is fine" >&2\n {4}false\n {4}echo never\n/,
    );
    assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack trace");
    const dirMatch = /kept: (\S+) \(the script, stdout and stderr\)/.exec(message);
    assert.ok(dirMatch, message);
    const jobDir = dirMatch[1]!;
    kept.push(jobDir);
    assert.match(fs.readFileSync(path.join(jobDir, "script.sh"), "utf8"), /echo never/);
    assert.equal(fs.readFileSync(path.join(jobDir, "stdout"), "utf8"), "starting\n");
    assert.equal(fs.readFileSync(path.join(jobDir, "stderr"), "utf8"), "the first line is fine\n");
  });

  test("a script call records no engine or Node-internal module paths", () => {
    const dir = makeProject({ "wf.ts": WORKFLOW, ".redun/redun.ini": config("thread") });
    dirs.push(dir);
    assert.equal(redun(dir, ["run", "wf.ts", "ok"]).code, 0);
    const jobs = redun(dir, ["log", "-"]);
    const id = /Job (\w+) \[\s*DONE\s*\][^\n]*redun\.script/.exec(jobs.stdout)?.[1];
    assert.ok(id, jobs.stdout);
    const job = redun(dir, ["log", id]);
    assert.match(job.stdout, /modules = \[\]/, job.stdout);
  });
});
