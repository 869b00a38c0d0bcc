/**
 * The pure parts of the AWS Batch executor: array grouping, job-definition matching, tags,
 * settings, requests, backoff, and the monitor's batching of DescribeJobs (against a
 * recording client; the real service is exercised in executor-batch.test.ts).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { BatchClient, JobDefinition, JobDetail } from "@aws-sdk/client-batch";
import { AWS_BATCH_SCHEMA, type AwsBatchOptions } from "../src/executors/aws-batch/batch-schema.ts";
import { parseOptions } from "../src/config/option-schema.ts";
import {
  ArrayBatcher,
  arrayBounds,
  planSubmission,
  type SubmissionPlan,
} from "../src/executors/aws-batch/arrays.ts";
import { Backoff, isThrottling, retryThrottled } from "../src/executors/aws/backoff.ts";
import { signPost, stsEndpoint } from "../src/executors/aws/identity.ts";
import {
  defaultJobDefName,
  jobDefMatches,
  jobDefSpec,
  registerRequest,
} from "../src/executors/aws-batch/job-def.ts";
import { logStreamOf } from "../src/executors/aws-batch/logs.ts";
import { BatchJobNotFoundError, chunks, JobMonitor } from "../src/executors/aws-batch/monitor.ts";
import { equivalenceKey, resolveJobSettings } from "../src/executors/aws-batch/job-settings.ts";
import {
  arrayIdOf,
  arrayJobName,
  arrayJobRequest,
  jobEnvironment,
  multiNodeRequest,
  singleJobName,
  singleJobRequest,
  workerNodePaths,
} from "../src/executors/aws-batch/submit-job.ts";
import { buildTags, projectOf } from "../src/executors/aws-batch/batch-tags.ts";
import { jobPaths } from "../src/executors/remote/scratch.ts";
import { executorFactory, loadExecutorType } from "../src/executors/executor.ts";
import "../src/executors/builtin.ts";

await loadExecutorType("aws_batch"); // built-in types load when first named

function batchOptions(raw: Record<string, unknown> = {}): AwsBatchOptions {
  return parseOptions(
    AWS_BATCH_SCHEMA,
    { image: "img:1", queue: "q", s3_scratch: "s3://b/scratch", ...raw },
    "[executors.batch]",
  ).values as unknown as AwsBatchOptions;
}

describe("array grouping", () => {
  test("bounds: 0 disables, AWS needs 2 to 10,000", () => {
    assert.equal(arrayBounds(0, 1000), undefined);
    assert.deepEqual(arrayBounds(5, 1000), { min: 5, max: 1000 });
    assert.deepEqual(arrayBounds(1, 50_000), { min: 2, max: 10_000 });
    assert.equal(arrayBounds(3, 2), undefined);
  });

  test("plans arrays of at most max, small remainders as single jobs", () => {
    const jobs = Array.from({ length: 23 }, (_, i) => i);
    const plan = planSubmission(jobs, 5, 10);
    assert.deepEqual(plan.arrays, [jobs.slice(0, 10), jobs.slice(10, 20)]);
    assert.deepEqual(plan.singles, [20, 21, 22]);
    assert.deepEqual(planSubmission([1, 2, 3], 5, 10), { arrays: [], singles: [1, 2, 3] });
    assert.deepEqual(planSubmission([1, 2, 3], 0, 10), { arrays: [], singles: [1, 2, 3] });
    assert.deepEqual(planSubmission(jobs, 1, 20_000).arrays, [jobs]);
  });

  test("the batcher submits a full group at once, the rest after the stale time, by key", async () => {
    const submitted: [string, SubmissionPlan<number>][] = [];
    let flushed!: () => void;
    const allFlushed = new Promise<void>((r) => (flushed = r));
    const batcher = new ArrayBatcher<number>({
      minSize: 2,
      maxSize: 3,
      staleMs: 20,
      submit: (key, plan) => {
        submitted.push([key, plan]);
        if (submitted.length === 3) flushed();
      },
    });
    for (const i of [1, 2, 3, 4]) batcher.add("a", i);
    batcher.add("b", 10);
    // Three "a" jobs filled an array at once; 4 and 10 wait.
    assert.deepEqual(submitted, [["a", { arrays: [[1, 2, 3]], singles: [] }]]);
    assert.equal(batcher.size, 2);
    await allFlushed;
    assert.deepEqual(
      submitted.slice(1).sort(([a], [b]) => a.localeCompare(b)),
      [
        ["a", { arrays: [], singles: [4] }],
        ["b", { arrays: [], singles: [10] }],
      ],
    );
    assert.equal(batcher.size, 0);
  });

  test("without arrays every job goes at once; clear() hands back waiting jobs", () => {
    const submitted: SubmissionPlan<number>[] = [];
    const off = new ArrayBatcher<number>({
      minSize: 0,
      maxSize: 10,
      staleMs: 1000,
      submit: (_, p) => submitted.push(p),
    });
    off.add("a", 1);
    assert.deepEqual(submitted, [{ arrays: [], singles: [1] }]);
    const on = new ArrayBatcher<number>({
      minSize: 5,
      maxSize: 10,
      staleMs: 60_000,
      submit: () => assert.fail(),
    });
    on.add("a", 1);
    on.add("b", 2);
    assert.deepEqual(on.clear().sort(), [1, 2]);
    assert.equal(on.size, 0);
  });

  test("equivalent means same task and settings", () => {
    const options = batchOptions();
    const a = resolveJobSettings(options, {}, "t.a");
    assert.equal(
      equivalenceKey("t.a", a),
      equivalenceKey("t.a", resolveJobSettings(options, {}, "t.a")),
    );
    assert.notEqual(equivalenceKey("t.a", a), equivalenceKey("t.b", a));
    assert.notEqual(
      equivalenceKey("t.a", a),
      equivalenceKey("t.a", resolveJobSettings(options, { memory: 8 }, "t.a")),
    );
  });
});

describe("settings", () => {
  test("defaults of the configuration document", () => {
    const s = resolveJobSettings(batchOptions(), {}, "t.a");
    assert.deepEqual(
      {
        vcpus: s.vcpus,
        gpus: s.gpus,
        memory: s.memory,
        attempts: s.attempts,
        prefix: s.jobNamePrefix,
      },
      { vcpus: 1, gpus: 0, memory: 4, attempts: 1, prefix: "batch-job" },
    );
    assert.equal(s.role, undefined);
    assert.equal(s.timeout, undefined);
    assert.equal(s.numNodes, undefined);
    assert.equal(s.defaultBatchTags, true);
    assert.equal(s.autocreateJobDef, true);
  });

  test("task options override the executor's; role None disables the role", () => {
    const options = batchOptions({ role: "arn:aws:iam::1:role/r", retries: "3", timeout: "600" });
    const s = resolveJobSettings(
      options,
      {
        vcpus: 4,
        gpus: 1,
        memory: 0.5,
        queue: "gpu",
        image: "img:2",
        awsRegion: "eu-west-1",
        jobNamePrefix: "mine",
        batchTags: { a: "b" },
        numNodes: 3,
        batchRetries: 20,
        privileged: true,
      },
      "t.a",
    );
    assert.equal(s.role, "arn:aws:iam::1:role/r");
    assert.deepEqual(
      [
        s.vcpus,
        s.gpus,
        s.memory,
        s.queue,
        s.image,
        s.region,
        s.jobNamePrefix,
        s.numNodes,
        s.privileged,
      ],
      [4, 1, 0.5, "gpu", "img:2", "eu-west-1", "mine", 3, true],
    );
    assert.equal(s.attempts, 10, "AWS allows at most 10 attempts");
    assert.equal(s.timeout, 600);
    assert.deepEqual(s.batchTags, { a: "b" });
    assert.equal(resolveJobSettings(batchOptions({ role: "None" }), {}, "t").role, null);
    assert.equal(resolveJobSettings(options, { role: null }, "t").role, null);
    assert.equal(resolveJobSettings(options, { role: "None" }, "t").role, null);
  });

  test("bad per-task values are errors naming the task", () => {
    assert.throws(
      () => resolveJobSettings(batchOptions(), { vcpus: -1 }, "acme.align"),
      /task "acme\.align".*vcpus/,
    );
    assert.throws(
      () => resolveJobSettings(batchOptions(), { batchTags: { a: 1 } }, "acme.align"),
      /task "acme\.align": batch tag "a" must be a string/,
    );
  });

  test("the executor type is registered and checks s3_scratch", () => {
    const factory = executorFactory("aws_batch")!;
    const context = { getExecutor: () => assert.fail() };
    assert.throws(
      () => factory("batch", { image: "i", queue: "q", s3_scratch: "/tmp/x" }, context),
      /\[executors\.batch\]: s3_scratch must be an S3 URI/,
    );
    const executor = factory("batch", { image: "i", queue: "q", s3_scratch: "s3://b/p/" }, context);
    assert.equal((executor as unknown as { scratch: string }).scratch, "s3://b/p");
  });
});

describe("job definitions", () => {
  const settings = resolveJobSettings(batchOptions(), { gpus: 1, memory: 2 }, "t");
  const spec = jobDefSpec(settings, "arn:aws:iam::1:role/r");

  test("spec and registration request", () => {
    assert.equal(
      defaultJobDefName("123.dkr.ecr.us-west-2.amazonaws.com/repo:tag"),
      "redun-jd-123_dkr_ecr_us-west-2_amazonaws_com_repo_tag",
    );
    assert.equal(spec.name, "redun-jd-img_1");
    assert.equal(spec.memory, 2048);
    const request = registerRequest(spec);
    assert.equal(request.type, "container");
    assert.equal(request.containerProperties?.jobRoleArn, "arn:aws:iam::1:role/r");
    assert.deepEqual(request.containerProperties?.resourceRequirements, [
      { type: "VCPU", value: "1" },
      { type: "MEMORY", value: "2048" },
      { type: "GPU", value: "1" },
    ]);
    assert.equal(
      jobDefSpec(resolveJobSettings(batchOptions({ job_def_name: "mine" }), {}, "t"), undefined)
        .name,
      "mine",
    );
    const none = registerRequest(jobDefSpec(settings, undefined));
    assert.equal("jobRoleArn" in none.containerProperties!, false);
  });

  test("multi-node definitions", () => {
    const multi = jobDefSpec(resolveJobSettings(batchOptions(), { numNodes: 4 }, "t"), undefined);
    const request = registerRequest(multi);
    assert.equal(request.type, "multinode");
    assert.equal(request.nodeProperties?.numNodes, 4);
    assert.equal(request.nodeProperties?.mainNode, 0);
    assert.equal(request.nodeProperties?.nodeRangeProperties?.[0]?.targetNodes, "0:");
  });

  test("matching on image, role, resources, privileged and nodes", () => {
    const registered = registerRequest(spec);
    const def: JobDefinition = {
      jobDefinitionName: spec.name,
      jobDefinitionArn: "arn:jd:1",
      revision: 1,
      status: "ACTIVE",
      type: registered.type,
      containerProperties: registered.containerProperties,
    };
    assert.equal(jobDefMatches(def, spec), true);
    assert.equal(jobDefMatches({ ...def, status: "INACTIVE" }, spec), false);
    assert.equal(jobDefMatches(def, { ...spec, image: "img:2" }), false);
    assert.equal(jobDefMatches(def, { ...spec, role: undefined }), false);
    assert.equal(jobDefMatches(def, { ...spec, memory: 4096 }), false);
    assert.equal(jobDefMatches(def, { ...spec, gpus: 0 }), false);
    assert.equal(jobDefMatches(def, { ...spec, privileged: true }), false);
    assert.equal(jobDefMatches(def, { ...spec, type: "multinode", numNodes: 2 }), false);
    // Older definitions give vcpus/memory as plain fields.
    const old: JobDefinition = {
      ...def,
      containerProperties: {
        image: "img:1",
        jobRoleArn: spec.role,
        vcpus: 1,
        memory: 2048,
        resourceRequirements: [{ type: "GPU", value: "1" }],
      },
    };
    assert.equal(jobDefMatches(old, spec), true);
  });
});

describe("tags", () => {
  const context = {
    jobId: "j1",
    taskName: "acme.align.bwa",
    executionId: "e1",
    awsUser: "arn:aws:sts::1:user/me",
  };

  test("default tags, overridden by batch_tags", () => {
    assert.equal(projectOf("acme.align.bwa"), "acme");
    assert.equal(projectOf("main"), "main");
    assert.deepEqual(
      buildTags(
        { team: "qa", redun_project: "override" },
        true,
        { ...context, evalHash: "h" },
        "x",
      ),
      {
        redun_job_id: "j1",
        redun_task_name: "acme.align.bwa",
        redun_execution_id: "e1",
        redun_project: "override",
        redun_aws_user: "arn:aws:sts::1:user/me",
        redun_eval_hash: "h",
        team: "qa",
      },
    );
    assert.deepEqual(buildTags({ team: "qa" }, false, context, "x"), { team: "qa" });
    assert.equal(
      buildTags({}, true, { ...context, awsUser: undefined }, "x").redun_aws_user,
      undefined,
    );
  });

  test("AWS limits", () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"]));
    assert.throws(
      () => buildTags(many, false, context, "[executors.batch]"),
      /\[executors\.batch\]: 51 batch tags/,
    );
    assert.equal(buildTags({ k: "v".repeat(300) }, false, context, "x").k!.length, 256);
  });
});

describe("submission requests", () => {
  const settings = resolveJobSettings(
    batchOptions({ timeout: "120", share_id: "s1", scheduling_priority_override: "5" }),
    {},
    "t",
  );
  const common = {
    jobName: "n",
    jobDefinitionArn: "arn:jd:1",
    settings,
    tags: { a: "b" },
    environment: [{ name: "X", value: "1" }],
  };

  test("names", () => {
    const hash = "a".repeat(40);
    assert.equal(singleJobName("batch-job", hash), `batch-job-${hash}`);
    assert.equal(singleJobName("my prefix!", hash), `my_prefix_-${hash}`);
    assert.equal(singleJobName("p".repeat(200), hash).length, 128);
    assert.equal(arrayJobName("batch-job", hash), `batch-job-array-${hash}`);
    assert.equal(arrayIdOf(["a", "b"]), arrayIdOf(["a", "b"]));
    assert.notEqual(arrayIdOf(["a", "b"]), arrayIdOf(["b", "a"]));
  });

  test("single and array jobs", () => {
    const single = singleJobRequest(common, ["redun", "oneshot", "--input", "s3://b/i"]);
    assert.deepEqual(single, {
      jobName: "n",
      jobQueue: "q",
      jobDefinition: "arn:jd:1",
      retryStrategy: { attempts: 1 },
      timeout: { attemptDurationSeconds: 120 },
      shareIdentifier: "s1",
      schedulingPriorityOverride: 5,
      tags: { a: "b" },
      propagateTags: true,
      containerOverrides: {
        command: ["redun", "oneshot", "--input", "s3://b/i"],
        environment: [{ name: "X", value: "1" }],
      },
    });
    const array = arrayJobRequest(
      common,
      ["redun", "oneshot", "--array-jobs", "s3://b/array/x/jobs"],
      7,
    );
    assert.deepEqual(array.arrayProperties, { size: 7 });
  });

  test("multi-node jobs: only the main node writes the job's output", () => {
    const paths = jobPaths("s3://b/scratch", "h1");
    const command = ["redun", "oneshot", "--input", paths.input];
    const request = multiNodeRequest(common, command, paths, 3);
    const [main, workers] = request.nodeOverrides!.nodePropertyOverrides!;
    assert.equal(request.nodeOverrides!.numNodes, 3);
    assert.equal(main!.targetNodes, "0");
    assert.deepEqual(main!.containerOverrides!.command, command);
    assert.equal(workers!.targetNodes, "1:");
    const worker = workerNodePaths(paths);
    assert.deepEqual(workers!.containerOverrides!.command, [
      ...command,
      "--output",
      worker.output,
      "--error",
      worker.error,
      "--status",
      worker.status,
    ]);
    assert.equal(worker.output, "s3://b/scratch/jobs/h1/node-workers/output");
    assert.equal(
      multiNodeRequest(common, command, paths, 1).nodeOverrides!.nodePropertyOverrides!.length,
      1,
    );
  });

  test("the job's environment: endpoints, and credentials only with an endpoint", () => {
    const local = {
      AWS_ENDPOINT_URL: "http://127.0.0.1:5000",
      AWS_ACCESS_KEY_ID: "k",
      AWS_SECRET_ACCESS_KEY: "s",
      AWS_REGION: "us-east-1",
      HOME: "/root",
    };
    assert.deepEqual(
      jobEnvironment(local).map((e) => e.name),
      ["AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_SECRET_ACCESS_KEY"],
    );
    assert.deepEqual(
      jobEnvironment({
        AWS_ACCESS_KEY_ID: "k",
        AWS_SECRET_ACCESS_KEY: "s",
        AWS_REGION: "eu-west-1",
      }),
      [{ name: "AWS_REGION", value: "eu-west-1" }],
    );
  });
});

describe("throttling and backoff", () => {
  test("recognises throttling errors", () => {
    assert.equal(isThrottling({ name: "ThrottlingException" }), true);
    assert.equal(isThrottling({ name: "TooManyRequestsException" }), true);
    assert.equal(isThrottling({ name: "X", $metadata: { httpStatusCode: 429 } }), true);
    assert.equal(isThrottling({ name: "ClientException" }), false);
    assert.equal(isThrottling(undefined), false);
  });

  test("waits grow exponentially to a cap, with jitter, and reset on success", () => {
    const high = new Backoff(100, 1000, () => 1);
    assert.deepEqual(
      [high.fail(), high.fail(), high.fail(), high.fail(), high.fail()],
      [100, 200, 400, 800, 1000],
    );
    high.succeed();
    assert.equal(high.consecutiveFailures, 0);
    assert.equal(high.fail(), 100);
    const low = new Backoff(100, 1000, () => 0);
    assert.equal(low.fail(), 50);
  });

  test("retryThrottled retries throttled calls only", async () => {
    let calls = 0;
    const value = await retryThrottled(
      async () => {
        if (++calls < 3)
          throw Object.assign(new Error("slow down"), { name: "ThrottlingException" });
        return "ok";
      },
      5,
      new Backoff(1, 2),
    );
    assert.deepEqual([value, calls], ["ok", 3]);
    calls = 0;
    await assert.rejects(
      retryThrottled(async () => {
        calls++;
        throw new Error("bad request");
      }),
      /bad request/,
    );
    assert.equal(calls, 1);
  });
});

describe("monitor", () => {
  /** A client that answers DescribeJobs from a table, recording each call's ids. */
  function fakeClient(
    status: (id: string) => string | undefined,
    calls: string[][],
    throttleFirst = 0,
  ) {
    let throttles = throttleFirst;
    return {
      send: async (command: { input: { jobs: string[] } }) => {
        if (throttles > 0) {
          throttles--;
          throw Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" });
        }
        calls.push(command.input.jobs);
        const jobs = command.input.jobs
          .filter((id) => status(id) !== undefined)
          .map((id) => ({ jobId: id, status: status(id) }) as JobDetail);
        return { jobs };
      },
    } as unknown as BatchClient;
  }

  test("one DescribeJobs per 100 jobs per poll; settles ended jobs", async () => {
    assert.deepEqual(chunks([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
    const calls: string[][] = [];
    const states = new Map<string, string>();
    const monitor = new JobMonitor({
      client: async () => fakeClient((id) => states.get(id), calls),
      intervalMs: 1,
      warn: () => undefined,
    });
    const ids = Array.from({ length: 150 }, (_, i) => `job-${i}`);
    for (const id of ids) states.set(id, "RUNNING");
    const seen: string[] = [];
    let allSeen!: () => void;
    const seenAll = new Promise<void>((r) => (allSeen = r));
    const ends = ids.map((id) =>
      monitor.track(id, "", 3, (d) => seen.push(d.status!) === ids.length && allSeen()),
    );
    await seenAll;
    // The first poll: 150 jobs in two calls.
    assert.deepEqual(
      calls.slice(0, 2).map((c) => c.length),
      [100, 50],
    );
    assert.equal(
      calls.every((c) => c.length <= 100),
      true,
    );
    for (const [i, id] of ids.entries()) states.set(id, i % 2 ? "FAILED" : "SUCCEEDED");
    const results = await Promise.all(ends);
    assert.equal(results.filter((r) => r.detail.status === "FAILED").length, 75);
    assert.equal(
      results.every((r) => r.seenActive),
      true,
    );
    assert.equal(monitor.describeCalls, calls.length);
    assert.deepEqual(monitor.tracked(), []);
  });

  test("throttling backs off and recovers; missing jobs are reported", async () => {
    const calls: string[][] = [];
    const warnings: string[] = [];
    const client = fakeClient((id) => (id === "done" ? "SUCCEEDED" : undefined), calls, 1);
    const monitor = new JobMonitor({
      client: async () => client,
      intervalMs: 1,
      warn: (w) => warnings.push(w),
    });
    const done = monitor.track("done", "");
    const gone = monitor.track("gone", "", 2);
    assert.equal((await done).seenActive, false);
    await assert.rejects(gone, BatchJobNotFoundError);
    assert.match(warnings[0]!, /throttling/);
  });

  test("stop rejects the jobs still tracked", async () => {
    const monitor = new JobMonitor({
      client: async () => fakeClient(() => "RUNNING", []),
      intervalMs: 5,
      warn: () => undefined,
    });
    const job = monitor.track("j", "");
    monitor.stop(new Error("cancelled"));
    await assert.rejects(job, /cancelled/);
    await assert.rejects(monitor.track("k", ""), /stopped/);
  });
});

describe("logs and identity", () => {
  test("the log stream of a job's last attempt", () => {
    assert.equal(logStreamOf({ container: { logStreamName: "a" } } as JobDetail), "a");
    assert.equal(
      logStreamOf({
        attempts: [{ container: { logStreamName: "x" } }, { container: { logStreamName: "y" } }],
      } as JobDetail),
      "y",
    );
    assert.equal(logStreamOf({} as JobDetail), undefined);
  });

  test("STS endpoint and request signature", () => {
    assert.equal(stsEndpoint("eu-west-1", {}), "https://sts.eu-west-1.amazonaws.com");
    assert.equal(
      stsEndpoint("eu-west-1", { AWS_ENDPOINT_URL: "http://127.0.0.1:1" }),
      "http://127.0.0.1:1",
    );
    assert.equal(
      stsEndpoint("eu-west-1", { AWS_ENDPOINT_URL: "a", AWS_ENDPOINT_URL_STS: "b" }),
      "b",
    );
    const headers = signPost(
      new URL("https://sts.us-east-1.amazonaws.com/"),
      "Action=GetCallerIdentity&Version=2011-06-15",
      "sts",
      "us-east-1",
      { accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: "tok" },
      new Date("2024-01-02T03:04:05Z"),
    );
    assert.equal(headers["x-amz-date"], "20240102T030405Z");
    assert.equal(headers["x-amz-security-token"], "tok");
    // The signature the AWS SDK's own signer (@smithy/signature-v4) gives for this request.
    assert.equal(
      headers.authorization,
      "AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/sts/aws4_request, " +
        "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, " +
        "Signature=dfec30a23bb5808f63d75742dc56ba4193717ba12456457c96e0331a1ba9928a",
    );
  });
});
