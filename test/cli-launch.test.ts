/**
 * `redun launch` through the real `redun` command: on a local process executor (a detached
 * `redun run` that outlives the command, and `--wait`), and on the Docker executor against a
 * real dockerd: fire-and-forget into PostgreSQL (the launcher returns at once; the run
 * records its own execution there), `--wait` with a local SQLite file (the records come
 * back with the result), and the refusal of a local SQLite file without `--wait`.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { makeProject, redun } from "./helpers/cli.ts";
import {
  buildTestImage,
  ensureDocker,
  skipWithoutDocker,
  type DockerDaemon,
} from "./helpers/docker.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/dialects.ts";
import { queryDb } from "./helpers/engine.ts";

const FLOW = fs.readFileSync(
  path.resolve(import.meta.dirname, "fixtures/workflows/subrun-flow.ts"),
  "utf8",
);

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  for (let i = 0; i < 600; i++) {
    // The launched run creates the database's tables itself: until then queries fail.
    const value = await Promise.resolve()
      .then(fn)
      .catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("redun launch on a local executor", () => {
  const dir = makeProject({
    ".redun/redun.ini":
      "[backend]\ndb_uri = sqlite:///redun.db\n[scheduler]\njob_status_interval = 0\nignore_warnings = namespace\n" +
      "[executors.procs]\ntype = local\nmode = process\n",
    "flow.ts": FLOW,
    "package.json": JSON.stringify({ type: "module" }),
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const db = path.join(dir, ".redun", "redun.db");

  test("without --wait: returns at once; the detached run finishes on its own", async () => {
    const r = redun(dir, [
      "launch",
      "--executor",
      "procs",
      "--",
      "redun",
      "run",
      "flow.ts",
      "sumSquares",
      "--n",
      "3",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const match =
      /launched (\w+): redun run flow\.ts sumSquares --n 3 \(pid (\d+)\)\nfollow it: tail -f (\S+)/.exec(
        r.stdout,
      );
    assert.ok(match, r.stdout);
    const log = match[3]!;
    const output = await until("the launched run", () => {
      const text = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "";
      return /^14$/m.test(text) ? text : undefined;
    });
    assert.match(output, /Jobs:/);
    const rows = await until("its execution", () => {
      const found = fs.existsSync(db) ? queryDb(db, "SELECT args FROM execution") : [];
      return found.length ? found : undefined;
    });
    assert.match(String(rows[0]!.args), /sumSquares/);
  });

  test("--wait runs it and exits with its code", () => {
    const ok = redun(dir, [
      "launch",
      "--executor",
      "procs",
      "--wait",
      "run",
      "flow.ts",
      "sumSquares",
      "--n",
      "2",
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^5$/m);
    const bad = redun(dir, [
      "launch",
      "--executor",
      "procs",
      "--wait",
      "run",
      "flow.ts",
      "fails",
      "--x",
      "1",
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /inner task failed on 1/);
  });

  test("an unknown executor or command is one clear line", () => {
    const r = redun(dir, ["launch", "--executor", "nope", "run", "flow.ts", "main"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /redun launch: executor "nope" is not defined/);
    const c = redun(dir, ["launch", "--executor", "procs", "log"]);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /expected a "redun run FILE TASK \.\.\." command/);
  });
});

describe("redun launch and subrun on the Docker executor", () => {
  let daemon: DockerDaemon | undefined;
  let unavailable: unknown;
  let image = "";
  let dir = "";
  let pgDir = "";
  let pg: TestDatabase | undefined;
  let env: Record<string, string> = {};
  const dockerIni = (backend: string) =>
    `${backend}\n[scheduler]\njob_status_interval = 0\nignore_warnings = namespace\n` +
    `[executors.docker]\ntype = docker\nimage = ${image}\nscratch = scratch\nnetwork = host\nmemory = 1\n`;

  before(async () => {
    try {
      daemon = await ensureDocker();
    } catch (error) {
      unavailable = error;
      return;
    }
    image = await buildTestImage(daemon.host, { withProject: true });
    dir = makeProject({
      ".redun/redun.ini": dockerIni("[backend]\ndb_uri = sqlite:///redun.db"),
      "flow.ts": FLOW,
      "package.json": JSON.stringify({ type: "module" }),
    });
    pgDir = makeProject({ "flow.ts": FLOW, "package.json": JSON.stringify({ type: "module" }) });
    pg = await createTestDatabase("postgresql", pgDir);
    fs.mkdirSync(path.join(pgDir, ".redun"), { recursive: true });
    fs.writeFileSync(
      path.join(pgDir, ".redun", "redun.ini"),
      dockerIni(`[backend]\ndb_uri = ${pg.uri}\nautomigrate = true`),
    );
    env = { DOCKER_HOST: daemon.host };
  });

  after(async () => {
    await pg?.close();
    for (const d of [dir, pgDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
    await daemon?.stop();
  });

  function ready(t: TestContext): boolean {
    if (!unavailable) return true;
    skipWithoutDocker(t, unavailable);
    return false;
  }

  test("subrun in a container: inner tasks run there; records come back; a rerun is cached", (t) => {
    if (!ready(t)) return;
    const r = redun(dir, ["run", "flow.ts", "main", "--n", "3", "--executor", "docker"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^14$/m);
    assert.match(
      r.stderr,
      /Sub-scheduler report \(redun\.subrun on executor "docker".*records imported/,
    );
    const db = path.join(dir, ".redun", "redun.db");
    const jobs = queryDb(
      db,
      "SELECT j.id, j.parent_id, j.execution_id, t.name FROM job j JOIN task t ON t.hash = j.task_hash",
    );
    const sub = jobs.find((j) => j.name === "subrun")!;
    assert.equal(jobs.filter((j) => j.name === "square").length, 3);
    assert.equal(jobs.find((j) => j.name === "sumSquares")?.parent_id, sub.id);
    assert.equal(new Set(jobs.map((j) => j.execution_id)).size, 1, "one execution");
    const again = redun(dir, ["run", "flow.ts", "main", "--n", "3", "--executor", "docker"], env);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /Sub-scheduler report/, "nothing ran");
  });

  test("launch without --wait refuses a local SQLite database", (t) => {
    if (!ready(t)) return;
    const r = redun(
      dir,
      ["launch", "--executor", "docker", "run", "flow.ts", "sumSquares", "--n", "2"],
      env,
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /is a SQLite file on this machine, which a job on executor "docker" cannot reach/,
    );
  });

  test("launch --wait with a local SQLite database prints the result", (t) => {
    if (!ready(t)) return;
    const r = redun(
      dir,
      ["launch", "--executor", "docker", "--wait", "run", "flow.ts", "sumSquares", "--n", "4"],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^30$/m);
  });

  test("launch without --wait on PostgreSQL: returns at once, the run records itself", async (t) => {
    if (!ready(t)) return;
    const r = redun(
      pgDir,
      ["launch", "--executor", "docker", "run", "flow.ts", "sumSquares", "--n", "3"],
      {
        ...env,
        ...pg!.env,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const id = /launched execution (\S+) on executor "docker"/.exec(r.stdout)?.[1];
    assert.ok(id, r.stdout);
    const root = await until("the launched run's root job", async () => {
      const rows = await pg!.query(
        "SELECT j.status, t.name FROM execution e JOIN job j ON j.id = e.job_id JOIN task t ON t.hash = j.task_hash WHERE e.id = ?",
        id,
      );
      return rows[0]?.status === "DONE" ? rows[0] : undefined;
    });
    assert.equal(root.name, "sumSquares");
    const squares = await pg!.query(
      "SELECT count(*) AS n FROM job j JOIN task t ON t.hash = j.task_hash WHERE j.execution_id = ? AND t.name = 'square'",
      id,
    );
    assert.equal(squares[0]!.n, 3);
  });
});
