/**
 * The docker executor against a real Docker engine (a private dockerd, see
 * test/helpers/docker.ts) and images built by `docker import` with no registry: a workflow
 * mixing container and local tasks through the real `redun` command, caching, failures with
 * the log tail, code changes shipped in the code package, an image without redun, many
 * jobs at once, and reuniting with a container that outlived its scheduler.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { BIN, jobTotals, makeProject, redun } from "./helpers/cli.ts";
import {
  buildTestImage,
  ensureDocker,
  skipWithoutDocker,
  type DockerDaemon,
} from "./helpers/docker.ts";

const FIXTURE = path.resolve(import.meta.dirname, "fixtures/workflows/remote-flow.ts");

describe("docker executor", () => {
  let daemon: DockerDaemon | undefined;
  let unavailable: unknown;
  let image = "";
  let bare = "";
  let dir = "";
  let scratch = "";
  let env: Record<string, string> = {};

  before(async () => {
    try {
      daemon = await ensureDocker();
    } catch (error) {
      unavailable = error;
      return;
    }
    image = await buildTestImage(daemon.host, { withProject: true });
    bare = await buildTestImage(daemon.host, { withProject: false });
    const ini = [
      "[backend]",
      "db_uri = sqlite:///redun.db",
      "[scheduler]",
      "job_status_interval = 0",
      "call_lease = 2",
      "ignore_warnings = namespace",
      "[executors.docker]",
      "type = docker",
      `image = ${image}`,
      "scratch = scratch",
      "network = host",
      "memory = 1",
      "",
    ].join("\n");
    dir = makeProject({
      ".redun/redun.ini": ini,
      "package.json": JSON.stringify({ type: "module" }),
      "flow.ts": fs.readFileSync(FIXTURE, "utf8"),
    });
    scratch = path.join(dir, ".redun", "scratch");
    env = { DOCKER_HOST: daemon.host };
  });

  after(async () => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await daemon?.stop();
  });

  /** Skips loudly without Docker; true when the test may go on. */
  function ready(t: TestContext): boolean {
    if (!unavailable) return true;
    skipWithoutDocker(t, unavailable);
    return false;
  }

  const run = (...args: string[]) => redun(dir, ["run", "flow.ts", ...args], env);
  /** `redun run -o KEY=VALUE flow.ts …`: a task option for the root call. */
  const runWith = (option: string, ...args: string[]) =>
    redun(dir, ["run", "-o", option, "flow.ts", ...args], env);

  /** Containers (running or not) with redun labels. */
  function containers(): string[] {
    const r = spawnSync("docker", ["ps", "-a", "-q", "--filter", "label=redun.eval_hash"], {
      env: { ...process.env, ...env },
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split("\n").filter(Boolean);
  }

  const runsFile = (name: string) => path.join(scratch, name);
  const lines = (file: string) =>
    fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean).sort() : [];

  test("container and local tasks call each other both ways; a rerun is cached", (t) => {
    if (!ready(t)) return;
    const runs = runsFile("main-runs.log");
    fs.mkdirSync(scratch, { recursive: true });
    const first = run("main", "--x", "3", "--runs", runs);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim(), "{ squares: [ 9, 16 ], chained: 10, sum: 19 }");
    // Each container task body ran once, in a container (it wrote to the mounted scratch).
    assert.deepEqual(lines(runs), ["remoteThenLocal 3", "square 3", "square 4"]);
    assert.deepEqual(containers(), [], "finished containers are removed");
    const where = run("whereAmI");
    assert.equal(where.code, 0, where.stderr);
    assert.equal(where.stdout.trim(), "{ docker: true, version: 'v1' }");

    const second = run("main", "--x", "3", "--runs", runs);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.trim(), first.stdout.trim());
    assert.equal(jobTotals(second.stderr).DONE, 0);
    assert.ok(jobTotals(second.stderr).CACHED >= 1);
    assert.deepEqual(lines(runs), ["remoteThenLocal 3", "square 3", "square 4"]);
  });

  test("a failing container task shows its error and the log tail", (t) => {
    if (!ready(t)) return;
    const result = run("fails", "--message", "boom in a box");
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      /task "remote_flow\.fails" failed \(job \w+\): RangeError: boom in a box/,
    );
    assert.match(result.stderr, /--- last lines of the job's log ---/);
    assert.match(result.stderr, /about to fail: line one/);
    assert.match(result.stderr, /about to fail: line two/);
    // The log is kept in the scratch directory, beside the error.
    const jobs = fs.readdirSync(path.join(scratch, "jobs"));
    const failed = jobs.filter((h) => fs.existsSync(path.join(scratch, "jobs", h, "error")));
    assert.equal(failed.length, 1);
    const log = fs.readFileSync(path.join(scratch, "jobs", failed[0]!, "log"), "utf8");
    assert.match(log, /about to fail: line two/);
    assert.equal(
      fs.readFileSync(path.join(scratch, "jobs", failed[0]!, "status"), "utf8"),
      "FAILED",
    );
    assert.deepEqual(containers(), []);
  });

  test("script tasks run in the container", (t) => {
    if (!ready(t)) return;
    const result = run("remote_flow.script", "--word", "hi");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "script says hi");
  });

  test("a code change travels in the code package, without rebuilding the image", (t) => {
    if (!ready(t)) return;
    const before = run("codeVersion");
    assert.equal(before.code, 0, before.stderr);
    assert.equal(before.stdout.trim(), "v1");
    const packages = fs.readdirSync(path.join(scratch, "code"));
    const file = path.join(dir, "flow.ts");
    const source = fs.readFileSync(file, "utf8");
    try {
      fs.writeFileSync(
        file,
        source
          .replace('export const CODE_VERSION = "v1";', 'export const CODE_VERSION = "v2";')
          .replace("return CODE_VERSION;", 'return CODE_VERSION + "-changed";'),
      );
      const after = run("codeVersion");
      assert.equal(after.code, 0, after.stderr);
      assert.equal(after.stdout.trim(), "v2-changed");
      const now = fs.readdirSync(path.join(scratch, "code"));
      assert.equal(now.length, packages.length + 1, "one new package for the new code");
    } finally {
      fs.writeFileSync(file, source);
    }
  });

  test("an image without redun fails with a clear message (per-task image override)", (t) => {
    if (!ready(t)) return;
    const result = runWith(`image=${bare}`, "square", "--x", "101");
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      new RegExp(
        `task "remote_flow\\.square" on executor "docker": the image "${bare.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}" ` +
          'has no "redun" command \\(exec: "redun": executable file not found in \\$PATH\\): ' +
          "install the redun package in the image",
      ),
    );
    assert.deepEqual(containers(), []);
  });

  test("interactive: the container's output goes to the terminal as it runs", (t) => {
    if (!ready(t)) return;
    const quiet = run("square", "--x", "21");
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /oneshot: task remote_flow\.square/);
    const loud = runWith("interactive=true", "square", "--x", "22");
    assert.equal(loud.code, 0, loud.stderr);
    assert.equal(loud.stdout.trim(), "484");
    assert.match(loud.stderr, /\[redun\] oneshot: task remote_flow\.square \(flow\.ts\)/);
  });

  test("many container jobs at once", (t) => {
    if (!ready(t)) return;
    const result = run("fanout", "--n", "6");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "[ 0, 1, 4, 9, 16, 25 ]");
    assert.deepEqual(containers(), []);
  });

  test("a restarted scheduler reunites with the container still running", async (t) => {
    if (!ready(t)) return;
    const gate = path.join(scratch, "gate");
    const started = path.join(scratch, "started");
    const runs = runsFile("gated-runs.log");
    const args = [
      BIN,
      "run",
      "flow.ts",
      "gated",
      "--gate",
      gate,
      "--started",
      started,
      "--runs",
      runs,
    ];
    const spawnRun = () =>
      spawn(process.execPath, args, {
        cwd: dir,
        env: { ...process.env, REDUN_CONFIG: "", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
    const waitFor = async (predicate: () => boolean, what: string) => {
      const deadline = Date.now() + 120_000;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const first = spawnRun();
    const firstExit = new Promise((resolve) => first.once("exit", resolve));
    await waitFor(() => fs.existsSync(started), "the first container to start");
    first.kill("SIGKILL");
    await firstExit;
    const running = containers();
    assert.equal(running.length, 1, "the container outlives its scheduler");

    const second = spawnRun();
    let stdout = "";
    let stderr = "";
    second.stdout.on("data", (d) => (stdout += d));
    second.stderr.on("data", (d) => (stderr += d));
    const secondExit = new Promise<number | null>((resolve) => second.once("exit", resolve));
    // The new scheduler is waiting on the old container; open the gate.
    await waitFor(
      () => /reuniting task remote_flow\.gated with its container/.test(stderr),
      "the second scheduler to reunite",
    );
    fs.writeFileSync(gate, "open");
    const code = await secondExit;
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), "gated done");
    assert.deepEqual(lines(runs), ["gated"], "the task body ran once, in the first container");
    assert.deepEqual(containers(), []);
  });
});
