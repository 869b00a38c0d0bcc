/**
 * The AWS Glue executor end to end: `redun run` in a temporary project against
 * moto_server's Glue and S3. moto runs no job code, so Glue's worker is SIMULATED by
 * test/helpers/moto-glue.ts: each run the executor starts is executed by running the job's
 * own launcher script with python3 on this machine (Node runtime, redun runtime and code
 * package fetched from moto's S3, oneshot run, result written back). `sparkScript` runs
 * against a STAND-IN pyspark/awsglue (test/fixtures/glue/stand-in), PySpark not being
 * installable here.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { GetJobCommand } from "@aws-sdk/client-glue";
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { jobTotals, makeProject, startRedun, writeFile } from "./helpers/cli.ts";
import { motoAvailable } from "./helpers/moto.ts";
import { startMotoGlue, type MotoGlue } from "./helpers/moto-glue.ts";

const FIXTURE = path.resolve(import.meta.dirname, "fixtures/glue/glue-flow.ts");

function ini(bucket: string, extra = ""): string {
  return `
[backend]
db_uri = sqlite:///redun.db

[scheduler]
job_status_interval = 0
call_lease = 2

[executors.glue]
type = aws_glue
s3_scratch = s3://${bucket}/scratch/
role = arn:aws:iam::123456789012:role/redun-glue-test
glue_job_prefix = redun-test
workers = 2
job_monitor_interval = 0.2
job_retry_interval = 0.3
${extra}`;
}

/** `redun ARGS` in the background, killed if it hangs past 4 minutes. */
const startRun = (dir: string, args: string[], env: Record<string, string>) =>
  startRedun(dir, args, env, 240_000);

async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  seconds = 120,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("aws_glue executor (moto_server; Glue's worker simulated by running the job's launcher with python3)", () => {
  let env: MotoGlue | undefined;
  let dir: string;
  let skip: string | undefined;

  before(async () => {
    if (!motoAvailable()) {
      skip = "moto_server is not installed";
      return;
    }
    env = await startMotoGlue();
    dir = makeProject({
      "workflow.ts": fs.readFileSync(FIXTURE, "utf8"),
      ".redun/redun.ini": ini(env.bucket),
    });
  });

  after(async () => {
    env?.release();
    await env?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  function run(args: string[]) {
    return startRun(dir, ["run", "workflow.ts", ...args], env!.env).done;
  }

  async function s3Keys(prefix: string): Promise<string[]> {
    const { Contents = [] } = await env!.s3.send(
      new ListObjectsV2Command({ Bucket: env!.bucket, Prefix: prefix }),
    );
    return Contents.map((c) => c.Key!);
  }

  async function records(): Promise<string[]> {
    return (await s3Keys("scratch/jobs/")).filter((k) => k.endsWith("/glue-job-run"));
  }

  test("TypeScript tasks run in the simulated Glue driver end to end; one job definition; the rerun is fully cached", async (t) => {
    if (skip) return t.skip(skip);
    const first = await run(["both", "--a", "3", "--b", "4"]);
    assert.equal(first.code, 0, first.stderr);
    const results = eval(`(${first.stdout})`) as Record<string, string | number>[];
    assert.deepEqual(
      results.map((r) => [r.x, r.doubled]),
      [
        [3, 6],
        [4, 8],
      ],
    );
    assert.equal(env!.runs.length, 2);
    for (const r of env!.runs) assert.equal(r.state, "succeeded", r.output);
    // The task saw the facts of its own job run.
    assert.deepEqual(new Set(results.map((r) => r.runId)), new Set(env!.runs.map((r) => r.runId)));
    assert.equal(results[0]!.workers, "2");
    assert.equal(results[0]!.workerType, "G.1X");

    // One job definition, created once, named by the prefix and a hash of the definition.
    assert.equal(env!.createJobs.length, 1);
    const jobName = String(env!.createJobs[0]!.Name);
    assert.match(jobName, /^redun-test-[0-9a-f]{16}$/);
    for (const r of env!.runs) assert.equal(r.jobName, jobName);
    const { Job } = await env!.glue.send(new GetJobCommand({ JobName: jobName }));
    assert.equal(Job!.Role, "arn:aws:iam::123456789012:role/redun-glue-test");
    assert.equal(Job!.GlueVersion, "5.0");
    assert.equal(Job!.WorkerType, "G.1X");
    assert.equal(Job!.Command!.Name, "glueetl");
    assert.match(
      Job!.Command!.ScriptLocation!,
      /^s3:\/\/redun-glue-test\/scratch\/glue\/launcher-[0-9a-f]{16}\.py$/,
    );

    // Each run: its arguments, worker count and type, timeout (the default 2880 minutes).
    const request = env!.runs[0]!.request as {
      Arguments: Record<string, string>;
      NumberOfWorkers: number;
      WorkerType: string;
      Timeout: number;
    };
    assert.equal(request.NumberOfWorkers, 2);
    assert.equal(request.WorkerType, "G.1X");
    assert.equal(request.Timeout, 2880);
    const a = request.Arguments;
    assert.match(a["--input"]!, /^s3:\/\/redun-glue-test\/scratch\/jobs\/[0-9a-f]+\/input$/);
    assert.match(a["--code"]!, /^s3:\/\/redun-glue-test\/scratch\/code\/[0-9a-f]{64}\.tar\.gz$/);
    assert.match(a["--node-runtime"]!, /\/scratch\/glue\/node-[0-9a-f]{16}$/);
    assert.match(a["--redun-runtime"]!, /\/scratch\/glue\/redun-[0-9a-f]{16}\.tar\.gz$/);
    assert.equal(a["--spark-event-logs-path"], "s3://redun-glue-test/scratch/glue/spark_history");
    assert.equal(a["--redun-mode"], "task");
    // Runtimes and launcher stored once each.
    assert.equal((await s3Keys("scratch/glue/")).length, 3);

    const again = await run(["both", "--a", "3", "--b", "4"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, first.stdout);
    assert.equal(jobTotals(again.stderr).DONE, 0, again.stderr);
    assert.equal(env!.runs.length, 2, "the rerun started no Glue job run");
  });

  test("per-task workers, workerType and timeout: another job definition, the run's settings", async (t) => {
    if (skip) return t.skip(skip);
    const before = env!.createJobs.length;
    const result = await run(["big", "--x", "1"]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(eval(`(${result.stdout})`), { x: 1, workers: "3", type: "G.2X" });
    assert.equal(env!.createJobs.length, before + 1);
    assert.equal(env!.createJobs.at(-1)!.WorkerType, "G.2X");
    const request = env!.runs.at(-1)!.request;
    assert.equal(request.NumberOfWorkers, 3);
    assert.equal(request.WorkerType, "G.2X");
    assert.equal(request.Timeout, 7);
  });

  test("a failing task: its own error and remote stack, the run FAILED on the simulated worker", async (t) => {
    if (skip) return t.skip(skip);
    const result = await run(["fails", "--message", "no such sample"]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /RangeError/);
    assert.match(result.stderr, /no such sample/);
    assert.match(result.stderr, /glue task says: line one/);
    assert.match(result.stderr, /workflow\.ts/, "the remote stack names the workflow");
    assert.equal(env!.runs.at(-1)!.state, "failed");
  });

  test("a run Glue reports TIMEOUT (state injected by the test's Glue proxy): Glue's state and message", async (t) => {
    if (skip) return t.skip(skip);
    env!.timeoutNext();
    const result = await run(["where", "--x", "99"]);
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      /AWS Glue job run jr_[0-9a-f]+ of job redun-test-[0-9a-f]+ ended TIMEOUT/,
    );
    assert.match(result.stderr, /Job run timed out/);
  });

  test("StartJobRun refused for capacity (refusals injected by the test's proxy): retried, then it runs; five refusals fail clearly", async (t) => {
    if (skip) return t.skip(skip);
    const before = env!.runs.length;
    env!.refuseStarts(2);
    const ok = await run(["where", "--x", "21"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(eval(`(${ok.stdout})`).doubled, 42);
    assert.equal(
      (ok.stderr.match(/lacks capacity \(ConcurrentRunsExceededException\)/g) ?? []).length,
      2,
    );
    assert.equal(env!.runs.length, before + 1);

    env!.refuseStarts(5, "ResourceNumberLimitExceededException");
    const refused = await run(["where", "--x", "22"]);
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /AWS Glue refused to start job redun-test-[0-9a-f]+ 5 times for lack of capacity \(ResourceNumberLimitExceededException/,
    );
    assert.equal(env!.runs.length, before + 1);
  });

  test("sparkScript runs its PySpark source in the simulated Glue driver (STAND-IN pyspark/awsglue)", async (t) => {
    if (skip) return t.skip(skip);
    await env!.s3.send(
      new PutObjectCommand({
        Bucket: env!.bucket,
        Key: "data/in.txt",
        Body: "alpha\nbeta\ngamma\n",
      }),
    );
    const input = `s3://${env!.bucket}/data/in.txt`;
    const output = `s3://${env!.bucket}/data/out`;
    const result = await run(["spark", "--input", input, "--output", output]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(eval(`(${result.stdout})`), {
      count: 3,
      first: "ALPHA",
      spark: "stand-in",
      glue: "GlueContext",
      inputs: { lines: input },
      outputs: output,
    });
    const run_ = env!.runs.at(-1)!;
    assert.equal(
      (run_.request as { Arguments: Record<string, string> }).Arguments["--redun-mode"],
      "spark",
    );
    assert.equal(run_.request.NumberOfWorkers, 2);
    const { Body } = await env!.s3.send(
      new (await import("@aws-sdk/client-s3")).GetObjectCommand({
        Bucket: env!.bucket,
        Key: "data/out/part-00000",
      }),
    );
    assert.equal(await Body!.transformToString(), "ALPHA\nBETA\nGAMMA\n");

    const outputs = await run(["sparkOutputs", "--output", output]);
    assert.equal(outputs.code, 0, outputs.stderr);
    assert.equal(outputs.stdout.trim(), output);

    const fails = await run(["sparkFails"]);
    assert.notEqual(fails.code, 0);
    assert.match(fails.stderr, /SparkScriptError: ValueError: bad rows/);

    const local = await run(["sparkLocal"]);
    assert.notEqual(local.code, 0);
    assert.match(
      local.stderr,
      /sparkScript\(\) runs PySpark code only on an executor of type aws_glue/,
    );
  });

  test("a SIGKILLed scheduler is reunited with its Glue job run (held by the simulated worker)", async (t) => {
    if (skip) return t.skip(skip);
    const before = env!.runs.length;
    const recordsBefore = (await records()).length;
    env!.hold(true);
    const first = startRun(dir, ["run", "workflow.ts", "where", "--x", "7"], env!.env);
    await waitFor("the run to start", () => (env!.runs.length > before ? true : undefined));
    // The record of the run is written right after StartJobRun.
    await waitFor("the run record", async () =>
      (await records()).length > recordsBefore ? true : undefined,
    );
    first.child.kill("SIGKILL");
    await first.done;
    env!.hold(false);
    const second = startRun(dir, ["run", "workflow.ts", "where", "--x", "7"], env!.env);
    await waitFor("the reunion", () =>
      second.output().stderr.includes("reunited with AWS Glue job run") ? true : undefined,
    );
    env!.release();
    const result = await second.done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(eval(`(${result.stdout})`).doubled, 14);
    assert.equal(env!.runs.length, before + 1, "one run for the call, not two");
  });

  test("Ctrl-C stops the Glue job runs (BatchStopJobRun; moto answers HTTP 500, reported as one line)", async (t) => {
    if (skip) return t.skip(skip);
    const before = env!.runs.length;
    const recordsBefore = (await records()).length;
    env!.hold(true);
    const running = startRun(dir, ["run", "workflow.ts", "where", "--x", "8"], env!.env);
    const started = await waitFor("the run to start", () => env!.runs[before]);
    // Tracked by the monitor once its record is written (right after StartJobRun).
    await waitFor("the run record", async () =>
      (await records()).length > recordsBefore ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 500));
    running.child.kill("SIGINT");
    const result = await running.done;
    env!.hold(false);
    env!.release();
    assert.notEqual(result.code, 0);
    // One BatchStopJobRun (the SDK tries a request answered 500 again: the same each time).
    assert.ok(env!.stopRequests.length >= 1);
    for (const stop of env!.stopRequests) {
      assert.deepEqual(stop.request, { JobName: started.jobName, JobRunIds: [started.runId] });
      assert.equal(stop.status, 500);
    }
    const lines = result.stderr
      .split("\n")
      .filter((l) => l.includes("cannot stop AWS Glue job run"));
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, new RegExp(started.runId));
    assert.match(result.stderr, /stopping 1 AWS Glue job run/);
  });

  test("bad configuration (worker_type = G.9X) is one clear line", async (t) => {
    if (skip) return t.skip(skip);
    const bad = makeProject({ "workflow.ts": fs.readFileSync(FIXTURE, "utf8") });
    try {
      writeFile(bad, ".redun/redun.ini", ini(env!.bucket, "worker_type = G.9X"));
      const result = await startRun(bad, ["run", "workflow.ts", "where", "--x", "1"], env!.env)
        .done;
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /worker_type/);
      assert.match(result.stderr, /G\.9X/);
      assert.match(result.stderr, /Standard, G\.1X, G\.2X/);
      assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
    } finally {
      fs.rmSync(bad, { recursive: true, force: true });
    }
  });
});
