/**
 * Files from the command line, end to end (the real `redun` command in child processes):
 * File / Dir parameters of `redun run` from paths and URIs, examples/pipeline.ts with its
 * incremental reruns (on SQLite and on PostgreSQL), a failing script's message, and `redun fs cp|ls|cat` on local files,
 * S3 (moto_server) and HTTP.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  makeProject,
  redun,
  REPO,
  startRedun,
  taskRow,
  type CommandResult,
} from "./helpers/cli.ts";
import { motoAvailable, startMoto, type Moto } from "./helpers/moto.ts";
import {
  backendIni,
  createTestDatabase,
  forEachDialect,
  type TestDatabase,
} from "./helpers/dialects.ts";
import { tempDir } from "./helpers/engine.ts";

const INI = `
[backend]
db_uri = sqlite:///redun.db

[scheduler]
job_status_interval = 0
ignore_warnings = namespace

[executors.default]
type = local
mode = process
max_workers = 2
`;

const WORKFLOW = `
import { Dir, File, script, task } from "redun";

/** What the command line made of File, Dir and File[] arguments. */
export const inspect = task(async function inspect(input: File, data: Dir, extras: File[] = []) {
  const files = await data.files();
  return [
    input.path + " = " + (await input.read()).trim(),
    data.path + " has " + files.map((f) => f.basename()).join(","),
    ...extras.map((f) => f.path),
  ].join("\\n");
});

/** A script that fails with exit code 3 and says why on stderr. */
export const broken = task(function broken() {
  return script(\`
    echo "working on it"
    echo "cannot open reference.fa: no such file" >&2
    exit 3
  \`);
});
`;

/**
 * `redun ARGS` without blocking this process: needed when the command talks to a server
 * running here (the HTTP server below), which a synchronous spawn would starve.
 */
function redunAsync(dir: string, args: string[]): Promise<CommandResult> {
  return startRedun(dir, args).done;
}

/** A tiny HTTP server with one file, for the whole file. */
async function startHttp(): Promise<{ base: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url !== "/remote.txt") return void res.writeHead(404).end();
    res.writeHead(200, { etag: '"r1"', "content-length": 11 });
    res.end(req.method === "HEAD" ? undefined : "from http!\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("File and Dir arguments of redun run", () => {
  let dir: string;
  let web: Awaited<ReturnType<typeof startHttp>>;

  before(async () => {
    dir = makeProject({
      ".redun/redun.ini": INI,
      "workflow.ts": WORKFLOW,
      "inputs/one.txt": "first\n",
      "data/x.csv": "x",
      "data/sub/y.csv": "y",
    });
    web = await startHttp();
  });
  after(async () => {
    await web.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("parses paths (relative to the working directory) and URIs into File and Dir values", () => {
    const result = redun(dir, [
      "run",
      "workflow.ts",
      "inspect",
      "--input",
      "inputs/one.txt",
      "--data",
      "data/",
      "--extras",
      "inputs/one.txt",
      "--extras",
      "data/x.csv",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout.trim(),
      [
        `${dir}/inputs/one.txt = first`,
        `${dir}/data has y.csv,x.csv`, // sorted by path: data/sub/y.csv first,
        `${dir}/inputs/one.txt`,
        `${dir}/data/x.csv`,
      ].join("\n"),
    );
  });

  it("reads an http(s):// URI as a File", async () => {
    const result = await redunAsync(dir, [
      "run",
      "workflow.ts",
      "inspect",
      "--input",
      `${web.base}/remote.txt`,
      "--data",
      "data",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^${web.base}/remote\\.txt = from http!$`, "m"));
  });

  it("rejects a URI with no registered filesystem in one clear line", () => {
    const result = redun(dir, [
      "run",
      "workflow.ts",
      "inspect",
      "--input",
      "gs://bucket/x.txt",
      "--data",
      "data",
    ]);
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      /no filesystem is registered for "gs:\/\/" \(in "gs:\/\/bucket\/x\.txt"\)/,
    );
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
  });

  it("a script that exits 3 fails the run with its exit code and stderr shown", () => {
    const result = redun(dir, ["run", "workflow.ts", "broken"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /script exited with code 3: cannot open reference\.fa: no such file/,
    );
    assert.match(result.stderr, /stderr \(last 1 line\):\n.*cannot open reference\.fa/);
    assert.match(result.stderr, /stdout \(last 1 line\):\n.*working on it/);
  });
});

forEachDialect((dialect) =>
  describe(`[${dialect}] examples/pipeline.ts`, () => {
    let dir: string;
    let dbDir: string;
    let db: TestDatabase;
    const example = path.join(REPO, "examples", "pipeline.ts");

    before(async () => {
      dbDir = tempDir();
      db = await createTestDatabase(dialect, dbDir);
      dir = makeProject({
        ".redun/redun.ini": backendIni(db) + INI.slice(INI.indexOf("\n[scheduler]")),
      });
      fs.cpSync(path.join(REPO, "examples", "data"), path.join(dir, "data"), { recursive: true });
    });
    after(async () => {
      await db.close();
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(dbDir, { recursive: true, force: true });
    });

    const run = () => {
      const result = redun(
        dir,
        ["run", example, "main", "--data", "data", "--out", "out", "--top", "3"],
        db.env,
      );
      assert.equal(result.code, 0, result.stderr);
      return result;
    };
    const done = (stderr: string, task: string) => taskRow(stderr, task)?.DONE;

    it("counts words per file in parallel, merges, and reruns only what an input change reaches", () => {
      const first = run();
      assert.equal(first.stdout.trim(), "the: 9\nand: 7\nof: 6");
      assert.equal(done(first.stderr, "pipeline.countWords"), 3);
      assert.equal(done(first.stderr, "redun.script"), 4);
      assert.equal(
        fs.readFileSync(path.join(dir, "out", "tyger.txt.counts.tsv"), "utf8").split("\n")[0],
        "aspire\t1",
      );

      const second = run();
      assert.equal(second.stdout, first.stdout);
      assert.equal(taskRow(second.stderr, "ALL")?.DONE, 0, "everything replayed");

      // Touched (new mtime, same bytes): only that file's count runs; its output has the
      // same content, so the merge is replayed.
      const tyger = path.join(dir, "data", "tyger.txt");
      const later = new Date(Date.now() + 60_000);
      fs.utimesSync(tyger, later, later);
      const touched = run();
      assert.equal(done(touched.stderr, "pipeline.countWords"), 1);
      assert.equal(done(touched.stderr, "redun.script"), 1);
      assert.equal(done(touched.stderr, "pipeline.mergeCounts"), 0);
      assert.equal(done(touched.stderr, "pipeline.report"), 0);

      // Edited: its count, the merge and the report run.
      fs.appendFileSync(tyger, "The the the.\n");
      const edited = run();
      assert.equal(edited.stdout.trim(), "the: 12\nand: 7\nof: 6");
      assert.equal(done(edited.stderr, "pipeline.countWords"), 1);
      assert.equal(done(edited.stderr, "redun.script"), 2);
      assert.equal(done(edited.stderr, "pipeline.report"), 1);

      // An output deleted: the script that wrote it runs again, nothing else.
      fs.rmSync(path.join(dir, "out", "raven.txt.counts.tsv"));
      const deleted = run();
      assert.equal(deleted.stdout, edited.stdout);
      assert.equal(done(deleted.stderr, "redun.script"), 1);
      assert.equal(done(deleted.stderr, "pipeline.mergeCounts"), 0);
      assert.ok(fs.existsSync(path.join(dir, "out", "raven.txt.counts.tsv")));
    });
  }),
);

describe("redun fs", () => {
  let dir: string;
  let web: Awaited<ReturnType<typeof startHttp>>;
  let moto: Moto | undefined;

  before(async () => {
    dir = makeProject({
      ".redun/redun.ini": INI,
      "workflow.ts": WORKFLOW,
      "local/a.txt": "aaa\n",
      "local/b.txt": "bb\n",
      "local/sub/c.csv": "c\n",
    });
    web = await startHttp();
  });
  after(async () => {
    await web.close();
    await moto?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("copies, lists and prints local files", () => {
    let r = redun(dir, ["fs", "cp", "local/a.txt", "copy/a2.txt"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(dir, "copy", "a2.txt"), "utf8"), "aaa\n");

    r = redun(dir, ["fs", "cp", "local/*.txt", "globbed/"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fs.readdirSync(path.join(dir, "globbed")).sort(), ["a.txt", "b.txt"]);

    r = redun(dir, ["fs", "cp", "local", "tree"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /local is a directory \(use -r to copy it\)/);
    r = redun(dir, ["fs", "cp", "-r", "local", "tree"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(dir, "tree", "sub", "c.csv"), "utf8"), "c\n");

    r = redun(dir, ["fs", "ls", "local"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n"), ["local/a.txt", "local/b.txt", "local/sub/"]);
    r = redun(dir, ["fs", "ls", "-r", "local"]);
    assert.deepEqual(r.stdout.trim().split("\n"), [
      "local/a.txt",
      "local/b.txt",
      "local/sub/c.csv",
    ]);
    r = redun(dir, ["fs", "ls", "-l", "local/a.txt"]);
    assert.match(r.stdout, /^\s+4\s+\d{4}-\d\d-\d\dT\S+\s+local\/a\.txt$/m);

    r = redun(dir, ["fs", "cat", "local/a.txt", "local/b.txt"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "aaa\nbb\n");

    r = redun(dir, ["fs", "cat", "local/none.txt"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no such file: local\/none\.txt/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    r = redun(dir, ["fs", "ls", "nowhere"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no such file or directory: nowhere/);
  });

  it("prints and copies HTTP files, and refuses to write them", async () => {
    let r = await redunAsync(dir, ["fs", "cat", `${web.base}/remote.txt`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "from http!\n");
    r = await redunAsync(dir, ["fs", "cp", `${web.base}/remote.txt`, "fetched/"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(dir, "fetched", "remote.txt"), "utf8"), "from http!\n");
    r = await redunAsync(dir, ["fs", "cp", "local/a.txt", `${web.base}/upload.txt`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /the http filesystem is read-only/);
  });

  it(
    "copies to and from S3, lists and prints objects",
    { skip: !motoAvailable() && "no moto_server" },
    async () => {
      moto = await startMoto();
      const env = moto.env;
      const bucket = "redun-fs-cli";
      const { S3Client, CreateBucketCommand } = await import("@aws-sdk/client-s3");
      const client = new S3Client({
        endpoint: moto.endpoint,
        forcePathStyle: true,
        region: "us-east-1",
        credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      });
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      client.destroy();

      let r = redun(dir, ["fs", "cp", "-r", "local", `s3://${bucket}/up`], env);
      assert.equal(r.code, 0, r.stderr);
      r = redun(dir, ["fs", "cp", "local/a.txt", `s3://${bucket}/single/`], env);
      assert.equal(r.code, 0, r.stderr);

      r = redun(dir, ["fs", "ls", `s3://${bucket}/up`], env);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split("\n"), [
        `s3://${bucket}/up/a.txt`,
        `s3://${bucket}/up/b.txt`,
        `s3://${bucket}/up/sub/`,
      ]);
      r = redun(dir, ["fs", "ls", `s3://${bucket}/**/*.txt`], env);
      assert.deepEqual(r.stdout.trim().split("\n"), [
        `s3://${bucket}/single/a.txt`,
        `s3://${bucket}/up/a.txt`,
        `s3://${bucket}/up/b.txt`,
      ]);
      r = redun(dir, ["fs", "ls", "-l", `s3://${bucket}/up/b.txt`], env);
      assert.match(r.stdout, /^\s+3\s+\S+\s+s3:\/\/redun-fs-cli\/up\/b\.txt$/m);

      r = redun(
        dir,
        ["fs", "cat", `s3://${bucket}/up/sub/c.csv`, `s3://${bucket}/single/a.txt`],
        env,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "c\naaa\n");

      r = redun(dir, ["fs", "cp", "-r", `s3://${bucket}/up`, "down"], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(fs.readFileSync(path.join(dir, "down", "sub", "c.csv"), "utf8"), "c\n");

      // S3 URIs as File and Dir arguments of redun run.
      r = redun(
        dir,
        [
          "run",
          "workflow.ts",
          "inspect",
          "--input",
          `s3://${bucket}/single/a.txt`,
          "--data",
          `s3://${bucket}/up`,
          "--extras",
          `s3://${bucket}/up/b.txt`,
        ],
        env,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout.trim(),
        [
          `s3://${bucket}/single/a.txt = aaa`,
          `s3://${bucket}/up has a.txt,b.txt,c.csv`,
          `s3://${bucket}/up/b.txt`,
        ].join("\n"),
      );

      r = redun(dir, ["fs", "cat", `s3://${bucket}/missing.txt`], env);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /no such file: s3:\/\/redun-fs-cli\/missing\.txt/);
    },
  );
});
