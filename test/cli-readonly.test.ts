/**
 * Read-only inspection through the real `redun` command: on a copy of a repository whose
 * files are read-only, run as an unprivileged user (the tests run as root, which could write
 * anyway), `redun log`, `db info`, `db check`, `db versions`, `tag list` and `export` work
 * and change nothing; read-only commands never create a `.redun/` where there is none; a
 * database newer than this redun gets a hint that names no migration that cannot exist.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { BIN, makeProject, redun, type CommandResult } from "./helpers/cli.ts";

const WORKFLOW = `
import { namespace } from "redun";
const { task } = namespace("ro");
export const add = task(function add(a: number, b: number) {
  return a + b;
});
export const main = task(function main(x: number) {
  return add(x, 1);
});
`;

/** `setpriv` runs a command as another user (util-linux); without it, `runuser`. */
function asNobody(): string[] | undefined {
  for (const [probe, prefix] of [
    [
      ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "true"],
      ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
    ],
    [
      ["runuser", "-u", "nobody", "--", "true"],
      ["runuser", "-u", "nobody", "--"],
    ],
  ]) {
    if (spawnSync(probe![0]!, probe!.slice(1)).status === 0) return prefix;
  }
  return undefined;
}

const NOBODY = process.getuid?.() === 0 ? asNobody() : undefined;

/** Runs `redun ARGS` in `dir` as the unprivileged user. */
function redunAsNobody(dir: string, args: string[]): CommandResult {
  const result = spawnSync(NOBODY![0]!, [...NOBODY!.slice(1), process.execPath, BIN, ...args], {
    cwd: dir,
    encoding: "utf8",
    // HOME: the user's own cache folders may not be writable; the source cache ignores that.
    env: { ...process.env, REDUN_CONFIG: "", HOME: os.tmpdir(), REDUN_CACHE_DIR: "" },
    timeout: 120_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Every file under a directory with its size and modification time. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of fs.readdirSync(dir, { recursive: true }).map(String).sort()) {
    const stat = fs.statSync(path.join(dir, name));
    files[name] = `${stat.size}:${stat.mtimeMs}`;
  }
  return files;
}

describe("read-only inspection", () => {
  let source: string;
  let copy: string;
  const made: string[] = [];
  before(() => {
    source = makeProject({ "wf.ts": WORKFLOW });
    made.push(source);
    for (const x of ["1", "2"]) {
      const run = redun(source, ["run", "wf.ts", "main", "--x", x]);
      assert.equal(run.code, 0, run.stderr);
    }
    // A copy with only the repository, every file and folder read-only, readable by all.
    copy = fs.mkdtempSync(path.join(os.tmpdir(), "redun-ro-"));
    made.push(copy);
    fs.cpSync(path.join(source, ".redun"), path.join(copy, ".redun"), { recursive: true });
    for (const name of ["", ...fs.readdirSync(copy, { recursive: true }).map(String)]) {
      const p = path.join(copy, name);
      fs.chmodSync(p, fs.statSync(p).isDirectory() ? 0o555 : 0o444);
    }
    // The temporary folder itself must be enterable by the other user.
    fs.chmodSync(copy, 0o555);
  });
  after(() => {
    for (const dir of made) {
      spawnSync("chmod", ["-R", "u+w", dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(
    "log, db info, db check, db versions, tag list and export work on a repository the user cannot write",
    { skip: NOBODY ? false : "needs root and setpriv or runuser to run as another user" },
    () => {
      const before = snapshot(copy);
      // The files really are out of this user's reach.
      const write = spawnSync(NOBODY![0]!, [
        ...NOBODY!.slice(1),
        "sh",
        "-c",
        `touch "${path.join(copy, ".redun", "x")}"`,
      ]);
      assert.notEqual(write.status, 0, "the unprivileged user can write the copy");

      const log = redunAsNobody(copy, ["log"]);
      assert.equal(log.code, 0, log.stderr);
      assert.equal(log.stdout.match(/^Exec /gm)?.length, 2, log.stdout);
      const latest = redunAsNobody(copy, ["log", "-"]);
      assert.equal(latest.code, 0, latest.stderr);
      assert.match(latest.stdout, /ro\.add/);

      const info = redunAsNobody(copy, ["db", "info"]);
      assert.equal(info.code, 0, info.stderr);
      assert.match(info.stdout, /status: up to date/);
      const check = redunAsNobody(copy, ["db", "check"]);
      assert.equal(check.code, 0, check.stderr);
      assert.match(check.stdout, /: ok \(SQLite integrity check/);
      const versions = redunAsNobody(copy, ["db", "versions"]);
      assert.equal(versions.code, 0, versions.stderr);

      const tags = redunAsNobody(copy, ["tag", "list"]);
      assert.equal(tags.code, 0, tags.stderr);
      const exported = redunAsNobody(copy, ["export"]);
      assert.equal(exported.code, 0, exported.stderr);
      assert.match(exported.stdout, /"table":"execution"/);
      // The same rows as the writable original exports.
      assert.equal(exported.stdout, redun(source, ["export"]).stdout);

      assert.deepEqual(snapshot(copy), before, "nothing in the copy changed");
    },
  );

  test("read-only commands never create a .redun/", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "redun-none-"));
    made.push(empty);
    for (const args of [["db", "info"], ["db", "check"], ["db", "versions"], ["export"]]) {
      const result = redun(empty, args);
      assert.equal(result.code, 1, `${args.join(" ")}: ${result.stderr}`);
      const lines = result.stderr.split("\n").filter(Boolean);
      assert.equal(lines.length, 1, result.stderr);
      assert.match(
        lines[0]!,
        /no redun repository here: there is no \.redun\/ in .*`redun init` makes one/,
      );
    }
    for (const args of [
      ["fs", "ls", "."],
      ["fs", "cat", "nothing.txt"],
    ])
      redun(empty, args);
    assert.deepEqual(fs.readdirSync(empty), [], "nothing was created");

    // A .redun/ without a database (or without redun.ini) reads as an empty repository.
    fs.mkdirSync(path.join(empty, ".redun"));
    const info = redun(empty, ["db", "info"]);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /schema version: 0\n/);
    assert.match(
      info.stdout,
      /status: no database yet: `redun init` or the first `redun run` makes it/,
    );
    const exported = redun(empty, ["export"]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.deepEqual(fs.readdirSync(path.join(empty, ".redun")), [], "no database file made");
  });

  test("a database newer than this redun: every hint says to upgrade redun, none names a migration", async () => {
    const dir = makeProject({});
    made.push(dir);
    assert.equal(redun(dir, ["init"]).code, 0);
    const { default: SQLite } = await import("better-sqlite3");
    const db = new SQLite(path.join(dir, ".redun", "redun.db"));
    db.prepare("INSERT INTO redun_version (id, version, timestamp) VALUES (?, ?, ?)").run(
      "future",
      99,
      "2099-01-01T00:00:00.000Z",
    );
    db.close();
    const info = redun(dir, ["db", "info"]);
    assert.match(
      info.stdout,
      /schema version: 99\n.*\nstatus: too new for this redun: upgrade redun/,
    );
    for (const args of [["db", "upgrade"], ["db", "downgrade", "2"], ["db", "check"], ["log"]]) {
      const result = redun(dir, args);
      assert.equal(result.code, 1, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, /upgrade redun/, args.join(" "));
      assert.doesNotMatch(
        result.stderr,
        /redun db (upgrade|downgrade)|No migration/,
        args.join(" "),
      );
      assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    }
  });
});
