/**
 * The remote job protocol (src/executors/remote/): scratch files on a local directory and
 * on S3 (moto_server), reproducible code packages, and `redun oneshot` run as a real child
 * process on a local scratch directory.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { configureS3 } from "../src/files/s3.ts";
import type { JobSpec } from "../src/executors/executor.ts";
import type { Task } from "../src/api/task.ts";
import { isExpression } from "../src/expressions/expression.ts";
import {
  buildCodePackage,
  extractCodePackage,
  listCodeFiles,
  parsePatterns,
  tarFiles,
  uploadCodePackage,
} from "../src/executors/remote/code-package.ts";
import {
  collectRemoteResult,
  prepareRemoteJob,
  RemoteJobError,
  type PreparedRemoteJob,
} from "../src/executors/remote/remote-job.ts";
import {
  arrayJobsPath,
  clearJobResult,
  codePackagePath,
  jobPaths,
  readScratchJson,
  readScratchText,
  readStatus,
  removeScratchFile,
  scratchFileExists,
  siblingPaths,
  tailLines,
  writeScratchFile,
  writeScratchJson,
  writeStatus,
} from "../src/executors/remote/scratch.ts";
import { BIN, makeProject } from "./helpers/cli.ts";
import { motoAvailable, startMoto, type Moto } from "./helpers/moto.ts";

const FIXTURE = path.resolve(import.meta.dirname, "fixtures/workflows/remote-flow.ts");

function tmpDir(prefix: string): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

/** Scratch read/write behaviour, the same on every filesystem. */
async function exerciseScratch(scratch: string): Promise<void> {
  const paths = jobPaths(scratch, "evalhash1");
  assert.equal(paths.input.endsWith("jobs/evalhash1/input"), true);
  assert.deepEqual(siblingPaths(paths.input), paths);
  assert.equal(await readScratchText(paths.output), undefined);
  assert.equal(await readStatus(paths.status), undefined);
  await writeScratchJson(paths.input, { version: 1, a: [1, "x"] });
  assert.deepEqual(await readScratchJson(paths.input), { version: 1, a: [1, "x"] });
  await writeScratchFile(paths.output, "42");
  await writeScratchFile(paths.error, Buffer.from("{}"));
  await writeScratchFile(paths.log, "line\n");
  await writeStatus(paths.status, "DONE");
  assert.equal(await readStatus(paths.status), "DONE");
  assert.equal(await scratchFileExists(paths.output), true);
  await clearJobResult(paths);
  for (const p of [paths.output, paths.error, paths.status, paths.log]) {
    assert.equal(await scratchFileExists(p), false, p);
  }
  assert.equal(await scratchFileExists(paths.input), true);
  await removeScratchFile(paths.input);
  await removeScratchFile(paths.input); // no error when missing
  assert.equal(await scratchFileExists(paths.input), false);
  assert.equal(codePackagePath(scratch, "abc").endsWith("code/abc.tar.gz"), true);
  assert.equal(arrayJobsPath(scratch, "arr1").endsWith("array/arr1/jobs"), true);
}

describe("scratch", () => {
  test("a local directory", async () => {
    const dir = tmpDir("redun-scratch-");
    try {
      await exerciseScratch(dir);
      assert.equal(fs.existsSync(path.join(dir, "jobs", "evalhash1")), true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an s3:// prefix (moto_server)", async (t) => {
    if (!motoAvailable()) return t.skip("moto_server is not installed");
    let moto: Moto | undefined;
    try {
      moto = await startMoto();
      const client = new S3Client({
        endpoint: moto.endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      });
      await client.send(new CreateBucketCommand({ Bucket: "scratch-bucket" }));
      configureS3({ client });
      await exerciseScratch("s3://scratch-bucket/some/prefix");
      const pkg = { hash: "h1", bytes: Buffer.from("package bytes"), files: [] };
      assert.equal((await uploadCodePackage("s3://scratch-bucket/p", pkg)).uploaded, true);
      assert.equal((await uploadCodePackage("s3://scratch-bucket/p", pkg)).uploaded, false);
      assert.equal(await readScratchText("s3://scratch-bucket/p/code/h1.tar.gz"), "package bytes");
    } finally {
      configureS3({});
      await moto?.stop();
    }
  });

  test("tailLines keeps the last lines", () => {
    assert.equal(tailLines("a\nb\nc\nd\n\n", 2), "c\nd");
  });
});

describe("code packages", () => {
  let root: string;
  before(() => {
    root = tmpDir("redun-code-");
    const files: Record<string, string> = {
      "main.ts": "export const a = 1;\n",
      "lib/util.ts": "export const b = 2;\n",
      "lib/deep/x.mjs": "export default 3;\n",
      "package.json": '{"type":"module"}',
      "notes.txt": "not code",
      "my dir/spaced.ts": "export const s = 1;\n",
      "node_modules/dep/index.js": "module.exports = 1;",
      ".git/config.json": "{}",
      ".redun-code/old/main.ts": "old",
      "secret/key.ts": "export const k = 1;\n",
    };
    for (const [name, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
      fs.writeFileSync(path.join(root, name), content);
    }
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  test("default includes: sources and JSON, never node_modules/.git/.redun-code", () => {
    assert.deepEqual(listCodeFiles(root), [
      "lib/deep/x.mjs",
      "lib/util.ts",
      "main.ts",
      "my dir/spaced.ts",
      "package.json",
      "secret/key.ts",
    ]);
  });

  test("patterns are split with shell-like quoting; excludes apply", () => {
    assert.deepEqual(parsePatterns('"my dir/*.ts" lib/**'), ["my dir/*.ts", "lib/**"]);
    assert.deepEqual(listCodeFiles(root, { includes: '"my dir/*.ts" *.txt' }), [
      "my dir/spaced.ts",
      "notes.txt",
    ]);
    assert.deepEqual(listCodeFiles(root, { excludes: "secret/** 'lib/deep/*'" }), [
      "lib/util.ts",
      "main.ts",
      "my dir/spaced.ts",
      "package.json",
    ]);
  });

  test("same files → same bytes → same hash, whatever the mtimes", async () => {
    const first = buildCodePackage(root);
    const later = new Date(Date.now() + 100_000);
    for (const f of first.files) fs.utimesSync(path.join(root, f), later, later);
    const second = buildCodePackage(root);
    assert.equal(second.hash, first.hash);
    assert.ok(second.bytes.equals(first.bytes));
    // A copy made in another order elsewhere gives the same package.
    const copy = tmpDir("redun-code-copy-");
    try {
      for (const f of [...first.files].reverse()) {
        fs.mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
        fs.copyFileSync(path.join(root, f), path.join(copy, f));
      }
      assert.equal(buildCodePackage(copy).hash, first.hash);
      fs.appendFileSync(path.join(copy, "main.ts"), "// changed\n");
      assert.notEqual(buildCodePackage(copy).hash, first.hash);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
    assert.ok(tarFiles(root, first.files).equals(first.bytes));
  });

  test("uploaded once per hash, extracted intact (long names too)", async () => {
    const long = `${"d".repeat(90)}/${"e".repeat(90)}/${"f".repeat(60)}.ts`;
    fs.mkdirSync(path.dirname(path.join(root, long)), { recursive: true });
    fs.writeFileSync(path.join(root, long), "export const long = true;\n");
    const scratch = tmpDir("redun-scratch-");
    const dest = tmpDir("redun-dest-");
    try {
      const pkg = buildCodePackage(root);
      const up1 = await uploadCodePackage(scratch, pkg);
      assert.equal(up1.uploaded, true);
      assert.equal(up1.path, path.join(scratch, "code", `${pkg.hash}.tar.gz`));
      const mtime = fs.statSync(up1.path).mtimeMs;
      const up2 = await uploadCodePackage(scratch, pkg);
      assert.equal(up2.uploaded, false);
      assert.equal(fs.statSync(up1.path).mtimeMs, mtime);
      const dir = await extractCodePackage(up1.path, dest);
      assert.equal(dir, path.join(dest, ".redun-code", pkg.hash));
      for (const f of pkg.files) {
        assert.equal(
          fs.readFileSync(path.join(dir, f), "utf8"),
          fs.readFileSync(path.join(root, f), "utf8"),
        );
      }
      assert.equal(await extractCodePackage(up1.path, dest), dir); // reused
    } finally {
      fs.rmSync(path.join(root, "d".repeat(90)), { recursive: true, force: true });
      fs.rmSync(scratch, { recursive: true, force: true });
      fs.rmSync(dest, { recursive: true, force: true });
    }
  });
});

describe("redun oneshot (child process, local scratch)", () => {
  let project: string;
  let scratch: string;
  let workdir: string;
  let flow: Record<string, Task>;
  let counter = 0;

  before(async () => {
    project = makeProject({
      "package.json": JSON.stringify({ type: "module" }),
      "flow.ts": fs.readFileSync(FIXTURE, "utf8"),
    });
    scratch = tmpDir("redun-scratch-");
    workdir = tmpDir("redun-work-");
    flow = (await import(path.join(project, "flow.ts"))) as Record<string, Task>;
  });
  after(() => {
    for (const d of [project, scratch, workdir]) fs.rmSync(d, { recursive: true, force: true });
  });

  function spec(task: Task, args: unknown[], options: Record<string, unknown> = {}): JobSpec {
    counter++;
    return {
      jobId: `job${counter}`,
      executionId: "exec1",
      evalHash: `eval${counter}-${task.name}`,
      task,
      args,
      options: { ...task.taskOptions, ...options },
    };
  }

  async function prepare(job: JobSpec, codePackage = true): Promise<PreparedRemoteJob> {
    return prepareRemoteJob(job, {
      executorName: "test",
      scratch,
      codeRoot: project,
      codePackage,
    });
  }

  /** Runs the prepared command line with the real CLI in a directory without the code. */
  function run(command: string[], env: Record<string, string> = {}, cwd = workdir) {
    assert.deepEqual(command.slice(0, 2), ["redun", "oneshot"]);
    const result = spawnSync(process.execPath, [BIN, ...command.slice(1)], {
      cwd,
      encoding: "utf8",
      env: { ...process.env, REDUN_CONFIG: "", ...env },
      timeout: 120_000,
    });
    return { code: result.status ?? -1, log: result.stdout + result.stderr };
  }

  test("success: output and status DONE", async () => {
    const prepared = await prepare(spec(flow.square!, [7]));
    assert.ok(prepared.codeUri?.startsWith(path.join(scratch, "code")));
    const { code, log } = run(prepared.command);
    assert.equal(code, 0, log);
    assert.equal(await readStatus(prepared.paths.status), "DONE");
    assert.equal(
      await collectRemoteResult(prepared.paths, { task: "t", executorName: "test" }),
      49,
    );
    // The package was unpacked under the working directory.
    assert.equal(
      fs.existsSync(
        path.join(workdir, ".redun-code", path.basename(prepared.codeUri!, ".tar.gz"), "flow.ts"),
      ),
      true,
    );
  });

  test("task error: error file, status FAILED, exit code 1, log tail attached", async () => {
    const prepared = await prepare(spec(flow.fails!, ["boom"]));
    const { code, log } = run(prepared.command);
    assert.equal(code, 1, log);
    assert.match(log, /about to fail: line one/);
    assert.equal(await readStatus(prepared.paths.status), "FAILED");
    assert.equal(await scratchFileExists(prepared.paths.output), false);
    const wire = (await readScratchJson(prepared.paths.error)) as Record<string, unknown>;
    assert.equal(wire.message, "boom");
    assert.deepEqual(wire.classes, ["RangeError", "Error"]);
    assert.match(String(wire.stack), /flow\.ts/); // the remote stack, the user's frames
    await assert.rejects(
      collectRemoteResult(prepared.paths, { task: "fails", executorName: "test", log }),
      (error: Error) => {
        assert.ok(error instanceof RangeError);
        assert.match(error.message, /^boom\n--- last lines of the job's log ---\n/);
        assert.match(error.message, /about to fail: line two/);
        return true;
      },
    );
  });

  test("an expression result comes back as an expression with the scheduler's module paths", async () => {
    const prepared = await prepare(spec(flow.remoteThenLocal!, [3]));
    const { code, log } = run(prepared.command);
    assert.equal(code, 0, log);
    const text = (await readScratchText(prepared.paths.output))!;
    assert.ok(text.includes(JSON.stringify(path.join(project, "flow.ts"))), text);
    assert.ok(!text.includes(".redun-code"), text);
    const value = await collectRemoteResult(prepared.paths, { task: "t", executorName: "test" });
    assert.ok(isExpression(value));
  });

  test("script tasks run their command where the job runs", async () => {
    const prepared = await prepare(spec(flow.script!, ["hello"]));
    const { code, log } = run(prepared.command);
    assert.equal(code, 0, log);
    assert.equal(
      await collectRemoteResult(prepared.paths, { task: "t", executorName: "test" }),
      "script says hello\n",
    );
  });

  test("a missing code package: exit code 2 and a clear error", async () => {
    const prepared = await prepare(spec(flow.square!, [2]));
    const missing = path.join(scratch, "code", "0000.tar.gz");
    const command = [...prepared.command.slice(0, -1), missing];
    const { code, log } = run(command);
    assert.equal(code, 2, log);
    assert.match(log, /the code package .*0000\.tar\.gz does not exist/);
    await assert.rejects(
      collectRemoteResult(prepared.paths, { task: "square", executorName: "test" }),
      /the code package .*0000\.tar\.gz does not exist/,
    );
    assert.equal(await readStatus(prepared.paths.status), "FAILED");
  });

  test("code_package = false: the code must be in the working directory", async () => {
    const prepared = await prepare(spec(flow.square!, [5]), false);
    assert.equal(prepared.codeUri, undefined);
    const missing = run(prepared.command);
    assert.equal(missing.code, 2, missing.log);
    assert.match(
      missing.log,
      /module flow\.ts of task "remote_flow\.square" is not at .*image must contain the workflow/,
    );
    // Run from the project itself: the code is there.
    await clearJobResult(prepared.paths);
    const ok = run(prepared.command, {}, project);
    assert.equal(ok.code, 0, ok.log);
    assert.equal(
      await collectRemoteResult(prepared.paths, { task: "t", executorName: "test" }),
      25,
    );
  });

  test("array jobs: the index from the environment picks the job", async () => {
    const a = await prepare(spec(flow.square!, [11]));
    const b = await prepare(spec(flow.square!, [12]));
    const list = arrayJobsPath(scratch, "array1");
    await writeScratchJson(list, [a.evalHash, b.evalHash]);
    const command = ["redun", "oneshot", "--array-jobs", list, "--code", b.codeUri!];
    const second = run(command, { AWS_BATCH_JOB_ARRAY_INDEX: "1" });
    assert.equal(second.code, 0, second.log);
    assert.equal(await collectRemoteResult(b.paths, { task: "t", executorName: "test" }), 144);
    assert.equal(await scratchFileExists(a.paths.output), false);
    const first = run(command, { AWS_BATCH_JOB_ID: "abcd:0" });
    assert.equal(first.code, 0, first.log);
    assert.equal(await collectRemoteResult(a.paths, { task: "t", executorName: "test" }), 121);
  });

  test("a task outside the code package is refused before anything runs", async () => {
    await assert.rejects(
      prepareRemoteJob(spec(flow.square!, [1]), {
        executorName: "test",
        scratch,
        codeRoot: project,
        codeExcludes: "flow.ts",
      }),
      /task "remote_flow\.square" cannot run on executor "test": its module flow\.ts is not in the code package; check code_includes and code_excludes/,
    );
    await assert.rejects(
      prepareRemoteJob(spec(flow.square!, [1]), {
        executorName: "test",
        scratch,
        codeRoot: workdir,
      }),
      /outside the code root/,
    );
  });

  test("stale results are removed before a job starts", async () => {
    const job = spec(flow.square!, [9]);
    const paths = jobPaths(scratch, job.evalHash);
    await writeScratchJson(paths.output, 1);
    await writeStatus(paths.status, "DONE");
    await prepare(job);
    assert.equal(await scratchFileExists(paths.output), false);
    assert.equal(await scratchFileExists(paths.status), false);
    await assert.rejects(
      collectRemoteResult(paths, { task: "square", executorName: "test", exitCode: 3 }),
      /task "square" on executor "test" ended without output or error \(exit code 3\)/,
    );
  });
});
