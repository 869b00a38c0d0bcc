/**
 * A federated entry point run through Docker on a real dockerd: team B's configuration
 * directory (imported by the caller's `federated_configs`) declares the entry point and a
 * docker executor whose code package carries team B's module and its configuration
 * directory (`code_includes`). The caller never imports team B's module; the task runs in
 * the container, and its records come back into the caller's SQLite database, under the
 * subrun job of the caller's execution.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { makeProject, redun } from "./helpers/cli.ts";
import {
  buildTestImage,
  ensureDocker,
  skipWithoutDocker,
  type DockerDaemon,
} from "./helpers/docker.ts";
import { queryDb } from "./helpers/engine.ts";

const CALLER_INI = `[backend]
db_uri = sqlite:///redun.db
[scheduler]
job_status_interval = 0
ignore_warnings = namespace
federated_configs = ../teamb/config
`;

const teambIni = (image: string, scratch: string) => `[executors.teamb_docker]
type = docker
image = ${image}
scratch = ${scratch}
network = host
memory = 1
code_includes = **/*.ts **/*.json teamb/config/*.ini

[federated_tasks.double_it]
namespace = teamb
task_name = double
load_module = teamb/flow.ts
executor = teamb_docker
config_dir = teamb/config
task_signature = x: number
description = Doubles a number, in team B's code, in a container.

[executors.teamb_docker_bare]
type = docker
image = ${image}
scratch = ${scratch}
network = host
memory = 1

[federated_tasks.double_unpackaged]
namespace = teamb
task_name = double
load_module = teamb/flow.ts
executor = teamb_docker_bare
config_dir = teamb/config
`;

/**
 * Team B's module. Importing it where `markers` exists (this machine, not the container)
 * leaves a file there: the caller must never do so.
 */
const teambFlow = (markers: string) => `import fs from "node:fs";
import { getTask, namespace } from "redun";
if (fs.existsSync(${JSON.stringify(markers)})) {
  fs.writeFileSync(${JSON.stringify(markers)} + "/imported-" + process.pid, "");
}
const { task } = namespace("teamb");
export const triple = task(function triple(x: number) { return x * 3; });
export const double = task(function double(x: number) {
  return {
    doubled: x * 2,
    tripled: triple(x),
    inContainer: fs.existsSync("/.dockerenv"),
    codeDir: process.env.REDUN_CODE_DIR ?? null,
  };
});
`;

const CALLER_FLOW = `import { federatedTask, namespace } from "redun";
const { task } = namespace("caller");
export const plusOne = task(function plusOne(r: { doubled: number }) { return r.doubled + 1; });
export const unpackaged = task(function unpackaged(x: number) {
  return federatedTask("double_unpackaged", x);
});
export const main = task(function main(x: number) {
  const r = federatedTask<{ doubled: number }>("double_it", x);
  return [plusOne(r), r];
});
`;

describe("a federated task on the Docker executor", () => {
  let daemon: DockerDaemon | undefined;
  let unavailable: unknown;
  let dir = "";
  let markers = "";
  let env: Record<string, string> = {};

  before(async () => {
    try {
      daemon = await ensureDocker();
    } catch (error) {
      unavailable = error;
      return;
    }
    const image = await buildTestImage(daemon.host, { withProject: true });
    markers = fs.mkdtempSync(path.join(os.tmpdir(), "redun-fed-markers-"));
    dir = makeProject({
      ".redun/redun.ini": CALLER_INI,
      "teamb/flow.ts": teambFlow(markers),
      "caller.ts": CALLER_FLOW,
      "package.json": JSON.stringify({ type: "module" }),
    });
    fs.mkdirSync(path.join(dir, "teamb", "config"), { recursive: true });
    fs.writeFileSync(
      path.join(dir, "teamb", "config", "redun.ini"),
      teambIni(image, path.join(dir, "scratch")),
    );
    env = { DOCKER_HOST: daemon.host };
  });

  after(async () => {
    for (const d of [dir, markers]) if (d) fs.rmSync(d, { recursive: true, force: true });
    await daemon?.stop();
  });

  function ready(t: TestContext): boolean {
    if (!unavailable) return true;
    skipWithoutDocker(t, unavailable);
    return false;
  }

  test("runs in a container with team B's module and config; provenance comes back", (t) => {
    if (!ready(t)) return;
    const r = redun(dir, ["run", "caller.ts", "main", "--x", "5"], env);
    assert.equal(r.code, 0, r.stderr);
    // The result as `redun run` prints it (util.inspect of plain data).
    const [plusOne, inner] = eval(`(${r.stdout})`) as [number, Record<string, unknown>];
    assert.equal(plusOne, 11);
    assert.equal(inner.doubled, 10);
    assert.equal(inner.tripled, 15, "team B's inner task ran in the sub-scheduler");
    assert.equal(inner.inContainer, true, "the task ran in a container");
    assert.notEqual(inner.codeDir, dir, "the code came from the package, not this directory");
    assert.match(r.stderr, /Sub-scheduler report \(redun\.subrun on executor "teamb_docker"/);
    assert.deepEqual(fs.readdirSync(markers), [], "the caller never imported team B's module");

    const jobs = queryDb(
      path.join(dir, ".redun", "redun.db"),
      "SELECT j.id, j.parent_id, j.execution_id, t.namespace, t.name, j.status " +
        "FROM job j JOIN task t ON t.hash = j.task_hash",
    );
    const byName = (name: string) => jobs.filter((j) => j.name === name);
    const [sub] = byName("subrun");
    const [fed] = byName("federated_task");
    const [double] = byName("double");
    assert.ok(sub && fed && double, JSON.stringify(jobs));
    assert.equal(double.namespace, "teamb");
    assert.equal(double.parent_id, sub.id, "team B's root job sits under the subrun job");
    assert.equal(byName("triple")[0]?.parent_id, double.id);
    assert.equal(new Set(jobs.map((j) => j.execution_id)).size, 1, "one execution");
    assert.ok(
      jobs.every((j) => j.status === "DONE"),
      JSON.stringify(jobs.map((j) => j.status)),
    );
  });

  test("a config_dir the code package leaves out is one clear error", (t) => {
    if (!ready(t)) return;
    const r = redun(dir, ["run", "caller.ts", "unpackaged", "--x", "2"], env);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /the configuration directory teamb\/config does not exist where the job runs/,
    );
    assert.deepEqual(fs.readdirSync(markers), []);
  });
});
