/**
 * Federated tasks through the real `redun` command: an entry point declared in a second
 * configuration directory imported by `federated_configs`, whose module the caller never
 * imports, run on a process executor from a workflow (`federatedTask`) and from the command
 * line (`redun fed run`); `redun fed list`; and the bad entries (unknown entry point, a
 * load_module that does not define the task, a section missing a required key).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, describe, test } from "node:test";
import { makeProject, redun, taskRow, writeFile } from "./helpers/cli.ts";

const CALLER_INI = `[backend]
db_uri = sqlite:///redun.db
[scheduler]
job_status_interval = 0
ignore_warnings = namespace
federated_configs = ../teamb/config
`;

const TEAMB_INI = `[executors.teamb_procs]
type = local
mode = process
max_workers = 2

[federated_tasks.double_it]
namespace = teamb
task_name = double
load_module = teamb/flow.ts
executor = teamb_procs
config_dir = teamb/config
task_signature = x: number
description = Doubles a number, in team B's code.

[federated_tasks.bad_module]
namespace = teamb
task_name = missing
load_module = teamb/other.ts
executor = teamb_procs
config_dir = teamb/config
`;

const TEAMB_FLOW = `import fs from "node:fs";
import { namespace } from "redun";
const { task } = namespace("teamb");
export const double = task(function double(x: number) {
  fs.appendFileSync(process.cwd() + "/teamb-runs.log", "double " + x + " pid=" + process.pid + "\\n");
  return x * 2;
});
`;

const CALLER_FLOW = `import { federatedTask, namespace } from "redun";
const { task } = namespace("caller");
export const plusOne = task(function plusOne(x: number) { return x + 1; });
export const main = task(function main(x: number) {
  const doubled = federatedTask<number>("double_it", x);
  // The same federated call twice: evaluated once (CSE).
  return [plusOne(doubled), federatedTask<number>("double_it", x)];
});
export const bad = task(function bad(x: number) { return federatedTask("bad_module", x); });
`;

describe("federated tasks", () => {
  const dir = makeProject({
    ".redun/redun.ini": CALLER_INI,
    "teamb/config/redun.ini": TEAMB_INI,
    "teamb/flow.ts": TEAMB_FLOW,
    "teamb/other.ts": "export const nothing = 1;\n",
    "caller.ts": CALLER_FLOW,
    "package.json": JSON.stringify({ type: "module" }),
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const runs = () =>
    fs.existsSync(`${dir}/teamb-runs.log`)
      ? fs.readFileSync(`${dir}/teamb-runs.log`, "utf8").split("\n").filter(Boolean)
      : [];

  test("redun fed list shows the imported entry points", () => {
    const r = redun(dir, ["fed", "list"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^double_it: teamb\.double\(x: number\)$/m);
    assert.match(r.stdout, /Doubles a number, in team B's code\./);
    assert.match(r.stdout, /executor teamb_procs, load_module teamb\/flow\.ts/);
    assert.match(r.stdout, /^bad_module: teamb\.missing\(\)$/m);
    const same = redun(dir, ["federated-tasks"]);
    assert.equal(same.stdout, r.stdout);
  });

  test("a workflow calls the federated task without importing its module; CSE within the run", () => {
    const r = redun(dir, ["run", "caller.ts", "main", "--x", "5"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[\s*11,\s*10\s*\]/);
    const ran = runs();
    assert.equal(ran.length, 1, "one federated call, run once");
    assert.ok(!ran[0]!.endsWith(`pid=${process.pid}`));
    assert.match(r.stderr, /Sub-scheduler report \(redun\.subrun on executor "teamb_procs"/);
    // Not reused across executions (the caller cannot hash team B's code): the subrun runs
    // again, and its sub-scheduler replays team B's task from its own cache.
    const again = redun(dir, ["run", "caller.ts", "main", "--x", "5"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(taskRow(again.stderr, "redun.subrun")?.DONE, 1);
    assert.match(again.stderr, /teamb\.double\s+0\s+0\s+0\s+1\s+0\s+1/);
    assert.equal(runs().length, 1);
  });

  test("redun fed run calls an entry point from the command line", () => {
    const r = redun(dir, ["fed", "run", "double_it", "--x", "21"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "42");
  });

  test("an unknown entry point is one line naming it and the known ones", () => {
    const r = redun(dir, ["fed", "run", "nope", "--x", "1"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim().split("\n").at(-1),
      'redun: error: unknown federated entry point "nope" (known: bad_module, double_it)',
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  test("a load_module that does not define the task names both", () => {
    const r = redun(dir, ["run", "caller.ts", "bad", "--x", "1"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /federated entry point "bad_module": load_module "teamb\/other\.ts" does not define the task "teamb\.missing"/,
    );
  });

  test("a section missing a required key is one error naming the section", () => {
    writeFile(
      dir,
      "other/.redun/redun.ini",
      "[federated_tasks.broken]\nnamespace = x\nload_module = m.ts\nexecutor = default\nconfig_dir = .\n",
    );
    const r = redun(`${dir}/other`, ["fed", "list"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /\[federated_tasks\.broken\] in .*redun\.ini: the option "task_name" is required/,
    );
  });
});
