/**
 * The AWS Batch executor end to end: `redun run` in a temporary project against
 * moto_server, whose Batch runs every job as a real container (a local image with node and
 * redun) on a private dockerd; scratch and code on moto's S3, logs in its CloudWatch Logs.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import {
  DescribeJobDefinitionsCommand,
  DescribeJobsCommand,
  ListJobsCommand,
  type JobDetail,
} from "@aws-sdk/client-batch";
import { GetLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { BIN, jobTotals, makeProject } from "./helpers/cli.ts";
import { DockerUnavailableError } from "./helpers/docker.ts";
import { motoAvailable } from "./helpers/moto.ts";
import { startMotoBatch, type MotoBatch } from "./helpers/moto-batch.ts";

const FIXTURE = path.resolve(import.meta.dirname, "fixtures/workflows/batch-flow.ts");
const PREFIX = "redun-test";

function ini(env: MotoBatch): string {
  return `
[backend]
db_uri = sqlite:///redun.db

[scheduler]
job_status_interval = 0
call_lease = 2

[executors.batch]
type = aws_batch
image = ${env.image}
queue = ${env.queue}
s3_scratch = s3://${env.bucket}/scratch/
role = ${env.roleArn}
job_name_prefix = ${PREFIX}
job_monitor_interval = 0.5
job_stale_time = 1
min_array_size = 5
max_array_size = 10
batch_tags = {"team": "qa"}

[executors.batchdebug]
type = aws_batch
debug = true
image = ${env.image}
queue = ${env.queue}
s3_scratch = s3://${env.bucket}/scratch-debug
`;
}

/** A running `redun` command. */
interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  done: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>;
}

function startRedun(dir: string, args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: { ...process.env, REDUN_CONFIG: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const killer = setTimeout(() => child.kill("SIGKILL"), 480_000);
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** Polls `check` until it returns a value (at most `seconds`). */
async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  seconds = 240,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe("aws_batch executor (moto_server, jobs in Docker)", () => {
  let env: MotoBatch | undefined;
  let dir: string;
  let skip: string | undefined;

  before(async () => {
    if (!motoAvailable()) {
      skip = "moto_server is not installed";
      return;
    }
    try {
      env = await startMotoBatch();
    } catch (error) {
      // Anything but "no Docker here" is a real failure; that one skips loudly.
      if (!(error instanceof DockerUnavailableError)) throw error;
      skip = `Docker is unavailable: ${error.message.split("\n")[0]}`;
      process.stderr.write(`\n!!! SKIPPING AWS BATCH TESTS: ${error.message}\n\n`);
      return;
    }
    dir = makeProject({
      "workflow.ts": fs.readFileSync(FIXTURE, "utf8"),
      ".redun/redun.ini": ini(env),
    });
  });

  after(async () => {
    await env?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Top-level Batch jobs of the queue (array children left out). */
  async function queueJobs(): Promise<JobDetail[]> {
    const { jobSummaryList = [] } = await env!.batch.send(
      new ListJobsCommand({
        jobQueue: env!.queue,
        filters: [{ name: "JOB_NAME", values: [`${PREFIX}*`] }],
      }),
    );
    const ids = jobSummaryList.map((j) => j.jobId!).filter((id) => !id.includes(":"));
    if (ids.length === 0) return [];
    const details: JobDetail[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      const { jobs = [] } = await env!.batch.send(
        new DescribeJobsCommand({ jobs: ids.slice(i, i + 100) }),
      );
      details.push(...jobs);
    }
    return details;
  }

  async function s3Keys(prefix: string): Promise<string[]> {
    const { Contents = [] } = await env!.s3.send(
      new ListObjectsV2Command({ Bucket: env!.bucket, Prefix: prefix }),
    );
    return Contents.map((c) => c.Key!);
  }

  async function jobDefinitions(): Promise<
    NonNullable<import("@aws-sdk/client-batch").JobDefinition>[]
  > {
    const { jobDefinitions = [] } = await env!.batch.send(
      new DescribeJobDefinitionsCommand({ status: "ACTIVE" }),
    );
    return jobDefinitions.filter((d) => d.jobDefinitionName?.startsWith("redun-jd-"));
  }

  function run(args: string[]) {
    return startRedun(dir, ["run", "workflow.ts", ...args], env!.env).done;
  }

  test("a fan-out of 20 calls runs as array jobs, tagged; the rerun is fully cached", async (t) => {
    if (skip) return t.skip(skip);
    const first = await run(["fanout", "--n", "20"]);
    assert.equal(first.code, 0, first.stderr);
    const results = eval(`(${first.stdout})`) as { x: number; square: number; jobId: string }[];
    assert.deepEqual(
      results.map((r) => [r.x, r.square]),
      Array.from({ length: 20 }, (_, i) => [i, i * i]),
    );

    const jobs = await queueJobs();
    // 20 equivalent jobs, max_array_size = 10: two array jobs of 10, no single jobs.
    assert.equal(jobs.length, 2, JSON.stringify(jobs.map((j) => j.jobName)));
    for (const job of jobs) {
      assert.match(job.jobName!, new RegExp(`^${PREFIX}-array-[0-9a-f]{40}$`));
      assert.equal(job.arrayProperties?.size, 10);
    }
    // Every child really ran, in the container of its own index.
    const parents = new Set(jobs.map((j) => j.jobId));
    const childIds = results.map((r) => r.jobId);
    assert.equal(new Set(childIds).size, 20);
    for (const id of childIds) {
      const [parent, index] = id.split(":");
      assert.equal(parents.has(parent), true, id);
      assert.match(index!, /^\d$/);
    }

    // Tags: redun's defaults and batch_tags.
    const tags = jobs[0]!.tags!;
    assert.equal(tags.redun_task_name, "batch_flow.square");
    assert.equal(tags.redun_project, "batch_flow");
    assert.match(tags.redun_execution_id!, /\S/);
    assert.match(tags.redun_job_id!, /\S/);
    assert.match(tags.redun_array_id!, /^[0-9a-f]{40}$/);
    assert.equal(tags.redun_aws_user, "arn:aws:sts::123456789012:user/moto");
    assert.equal(tags.team, "qa");
    assert.notEqual(jobs[0]!.tags!.redun_array_id, jobs[1]!.tags!.redun_array_id);

    // One job definition, registered once and reused by both array jobs.
    const defs = await jobDefinitions();
    assert.equal(defs.length, 1, JSON.stringify(defs.map((d) => d.jobDefinitionArn)));
    const def = defs[0]!;
    assert.equal(def.containerProperties?.image, env!.image);
    assert.equal(def.containerProperties?.jobRoleArn, env!.roleArn);
    assert.deepEqual(
      Object.fromEntries(
        def.containerProperties!.resourceRequirements!.map((r) => [r.type, r.value]),
      ),
      { VCPU: "1", MEMORY: "4096" },
    );
    for (const job of jobs) assert.equal(job.jobDefinition, def.jobDefinitionArn);
    // The code package was uploaded once, beside the array job lists.
    assert.equal((await s3Keys("scratch/code/")).length, 1);
    assert.equal((await s3Keys("scratch/array/")).length, 2);

    const again = await run(["fanout", "--n", "20"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, first.stdout);
    const totals = jobTotals(again.stderr);
    assert.equal(totals.DONE, 0, again.stderr);
    assert.equal(totals.RUNNING, 0);
    assert.equal((await queueJobs()).length, 2, "the rerun submitted no Batch job");
  });

  test("a failing batch task reports its CloudWatch log lines", async (t) => {
    if (skip) return t.skip(skip);
    const before = (await queueJobs()).length;
    const result = await run(["fails", "--message", "no such sample"]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /RangeError/);
    assert.match(result.stderr, /no such sample/);
    assert.match(result.stderr, /batch task says: line one/);
    assert.match(result.stderr, /batch task says: line two/);
    assert.doesNotMatch(result.stderr, /\n\s+at .*src\/executors/, "no internal stack trace");

    const jobs = await queueJobs();
    assert.equal(jobs.length, before + 1);
    const failed = jobs.find((j) => j.tags?.redun_task_name === "batch_flow.fails")!;
    assert.equal(failed.status, "FAILED");
    assert.match(failed.jobName!, new RegExp(`^${PREFIX}-[0-9a-f]{40}$`));
    assert.equal(failed.tags!.redun_eval_hash, failed.jobName!.slice(PREFIX.length + 1));
    // The lines really are in CloudWatch Logs, where the executor read them.
    const stream =
      failed.container?.logStreamName ?? failed.attempts?.at(-1)?.container?.logStreamName;
    const { events = [] } = await env!.logs.send(
      new GetLogEventsCommand({
        logGroupName: "/aws/batch/job",
        logStreamName: stream!,
        startFromHead: true,
      }),
    );
    assert.equal(
      events.some((e) => e.message?.includes("batch task says: line two")),
      true,
    );
    // Same image, role and resources: the job definition was reused.
    assert.equal((await jobDefinitions()).length, 1);
  });

  test("a task's own resources get a job definition of their own", async (t) => {
    if (skip) return t.skip(skip);
    const result = await run(["small", "--x", "41"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "42");
    const defs = await jobDefinitions();
    assert.equal(defs.length, 2);
    const memories = defs
      .map(
        (d) => d.containerProperties!.resourceRequirements!.find((r) => r.type === "MEMORY")!.value,
      )
      .sort();
    assert.deepEqual(memories, ["256", "4096"]);
    assert.equal(
      new Set(defs.map((d) => d.jobDefinitionName)).size,
      1,
      "new revisions of one name",
    );
    const small = (await queueJobs()).find((j) => j.tags?.redun_task_name === "batch_flow.small")!;
    const smallDef = defs.find((d) => d.jobDefinitionArn === small.jobDefinition)!;
    assert.equal(
      smallDef.containerProperties!.resourceRequirements!.find((r) => r.type === "MEMORY")!.value,
      "256",
    );
  });

  test("killing the scheduler mid-run and restarting reunites with its jobs", async (t) => {
    if (skip) return t.skip(skip);
    const b = `s3://${env!.bucket}`;
    const [gateA, gateB, marks] = [
      `${b}/reunite/gate-a`,
      `${b}/reunite/gate-b`,
      `${b}/reunite/marks`,
    ];
    const args = ["twoGated", "--gate-a", gateA, "--gate-b", gateB, "--marks", marks];
    const gatedJobs = async () =>
      (await queueJobs()).filter((j) => j.tags?.redun_task_name === "batch_flow.gated");

    const first = startRedun(dir, ["run", "workflow.ts", ...args], env!.env);
    await waitFor("both gated jobs to start", async () =>
      (await s3Keys("reunite/marks/")).length === 2 ? true : undefined,
    );
    const submitted = await gatedJobs();
    assert.equal(submitted.length, 2);
    first.child.kill("SIGKILL");
    const killed = await first.done;
    assert.equal(killed.signal, "SIGKILL");

    // Job A finishes while no scheduler runs; job B is still running at the restart.
    await env!.s3.send(
      new PutObjectCommand({ Bucket: env!.bucket, Key: "reunite/gate-a", Body: "open" }),
    );
    await waitFor("job A to succeed", async () =>
      (await gatedJobs()).some((j) => j.tags?.redun_eval_hash && j.status === "SUCCEEDED")
        ? true
        : undefined,
    );
    const second = startRedun(dir, ["run", "workflow.ts", ...args], env!.env);
    await waitFor("the restarted scheduler to reunite with job B", async () =>
      /reunited with AWS Batch job/.test(second.stderr()) ? true : undefined,
    );
    await env!.s3.send(
      new PutObjectCommand({ Bucket: env!.bucket, Key: "reunite/gate-b", Body: "open" }),
    );
    const result = await second.done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "[ 'a done', 'b done' ]");
    assert.match(
      result.stderr,
      /batch_flow\.gated: result of AWS Batch job \S+ \(finished earlier\)/,
    );
    assert.match(result.stderr, /batch_flow\.gated: reunited with AWS Batch job \S+ \(RUNNING\)/);
    // No job was submitted again, and each task body ran once.
    const after = await gatedJobs();
    assert.deepEqual(after.map((j) => j.jobId).sort(), submitted.map((j) => j.jobId).sort());
    const started = await s3Keys("reunite/marks/");
    assert.equal(started.filter((k) => k.includes("started-a/")).length, 1);
    assert.equal(started.filter((k) => k.includes("started-b/")).length, 1);
  });

  test("an interrupted scheduler terminates its running jobs", async (t) => {
    if (skip) return t.skip(skip);
    const b = `s3://${env!.bucket}`;
    const args = [
      "twoGated",
      "--gate-a",
      `${b}/cancel/a`,
      "--gate-b",
      `${b}/cancel/b`,
      "--marks",
      `${b}/cancel/marks`,
    ];
    const running = startRedun(dir, ["run", "workflow.ts", ...args], env!.env);
    await waitFor("both gated jobs to start", async () =>
      (await s3Keys("cancel/marks/")).length === 2 ? true : undefined,
    );
    running.child.kill("SIGINT");
    const result = await running.done;
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /terminating 2 AWS Batch job\(s\)/);
    const cancelled = await waitFor("the jobs to stop", async () => {
      const jobs = (await queueJobs()).filter(
        (j) => j.tags?.redun_execution_id && j.jobName && j.status,
      );
      const mine = jobs.filter((j) => j.statusReason?.includes("cancelled by redun"));
      return mine.length === 2 && mine.every((j) => j.status === "FAILED") ? mine : undefined;
    });
    assert.equal(cancelled.length, 2);
  });

  test("debug = true runs the container locally with docker, on the S3 scratch", async (t) => {
    if (skip) return t.skip(skip);
    const before = (await queueJobs()).length;
    const result = await run(["debugWhere", "--x", "3"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "{ x: 3, docker: true, batchJob: null }");
    assert.equal((await queueJobs()).length, before, "no Batch job");
    const keys = await s3Keys("scratch-debug/");
    assert.equal(
      keys.some((k) => /^scratch-debug\/jobs\/[0-9a-f]{40}\/output$/.test(k)),
      true,
      keys.join("\n"),
    );
    assert.equal(
      keys.some((k) => k.startsWith("scratch-debug/code/")),
      true,
    );
  });
});
