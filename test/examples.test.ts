/**
 * The example workflows of examples/ run through the real `redun` command, as their READMEs
 * say, so they cannot rot: examples/subrun (a subrun on the process executor and a
 * federated task from team B's configuration directory), copied to a temporary directory.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import { makeProject, redun, REPO, taskRow } from "./helpers/cli.ts";

describe("examples/subrun", () => {
  const dir = makeProject({ "package.json": JSON.stringify({ type: "module" }) });
  fs.cpSync(path.join(REPO, "examples", "subrun"), dir, {
    recursive: true,
    // A database left by running the example in place is not part of it.
    filter: (src) => !/\.db(-\w+)?$/.test(src),
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("main runs the subrun and the federated call; the rerun replays the subrun", () => {
    const r = redun(dir, ["run", "workflow.ts", "main", "--n", "3"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "hello example, from team B; the sum of squares is 14");
    assert.match(r.stderr, /Sub-scheduler report \(redun\.subrun on executor "process"/);
    assert.match(r.stderr, /Sub-scheduler report \(redun\.subrun on executor "teamb_procs"/);
    assert.equal(taskRow(r.stderr, "redun.subrun")?.DONE, 2);

    const again = redun(dir, ["run", "workflow.ts", "main", "--n", "3"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, r.stdout);
    // The subrun is replayed; the federated call (CSE only) runs its subrun again.
    assert.deepEqual(
      [taskRow(again.stderr, "redun.subrun")?.CACHED, taskRow(again.stderr, "redun.subrun")?.DONE],
      [1, 1],
    );
  });

  test("fed list and fed run, as its README shows", () => {
    const list = redun(dir, ["fed", "list"]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^teamb_greet: teamb\.greet\(name: string\)$/m);
    assert.match(list.stdout, /Greets someone, in team B's code\./);
    const run = redun(dir, ["fed", "run", "teamb_greet", "--name", "you"]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), "hello you, from team B");
  });
});
