/**
 * The Kubernetes executor on a real cluster: a private single-node v1.20 cluster built and
 * started by test/helpers/k8s.ts (or `REDUN_TEST_KUBECONFIG`), pods on a private dockerd with
 * an image made by `docker import` (node and redun), `hostNetwork` and `imagePullPolicy:
 * Never`, the scratch directory as a hostPath. Everything runs through the real `redun run`:
 * results and provenance, an expression result running further jobs, failures (the task's
 * error, OOM, a missing image, a deadline) with the pod's log, secrets, labels and
 * annotations, a cached rerun, a SIGKILLed scheduler started again, Ctrl-C, and the array
 * fallback of servers without Indexed Jobs. Where the cluster cannot start, every test skips
 * loudly with the reason.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import SQLite from "better-sqlite3";
import type { V1Job } from "@kubernetes/client-node";
import { jobTotals, makeProject, startRedun as startCli } from "./helpers/cli.ts";
import {
  ensureK8sCluster,
  k8sRunEnv,
  running,
  skipWithoutK8s,
  waitUntil,
  type K8sCluster,
} from "./helpers/k8s.ts";

const FIXTURE = path.resolve(import.meta.dirname, "fixtures/workflows/k8s-flow.ts");
const SECRET = "s3cr3t-k8s-value-7d1f";
const AWS_SECRET = "fake-aws-secret-k8s-9c2e";
const sha = (v: string) => createHash("sha256").update(v).digest("hex");

describe("k8s executor on a real Kubernetes cluster", () => {
  let cluster: K8sCluster | undefined;
  let unavailable: unknown;
  let dir = "";
  let scratch = "";
  let env: Record<string, string> = {};
  let batch: import("@kubernetes/client-node").BatchV1Api;
  let core: import("@kubernetes/client-node").CoreV1Api;

  before(async () => {
    try {
      cluster = await ensureK8sCluster();
    } catch (error) {
      unavailable = error;
      return;
    }
    dir = makeProject({
      "package.json": JSON.stringify({ type: "module" }),
      "flow.ts": fs.readFileSync(FIXTURE, "utf8"),
    });
    scratch = path.join(dir, ".redun", "scratch");
    fs.mkdirSync(scratch, { recursive: true });
    fs.writeFileSync(
      path.join(dir, ".redun", "redun.ini"),
      [
        "[backend]",
        "db_uri = sqlite:///redun.db",
        "[scheduler]",
        "job_status_interval = 0",
        // A SIGKILLed scheduler's claim on its calls lapses after 2 s (not 20).
        "call_lease = 2",
        "ignore_warnings = namespace",
        "[executors.k8s]",
        "type = k8s",
        `image = ${cluster.image}`,
        "scratch = scratch",
        "image_pull_policy = Never",
        "host_network = true",
        "vcpus = 0",
        "memory = 0.5",
        "secret_env_vars = REDUN_K8S_TEST_SECRET",
        'k8s_labels = {"cost-center": "c42"}',
        "share_id = not-for-kubernetes",
        "job_monitor_interval = 0.5",
        "job_stale_time = 0.5",
        "min_array_size = 2",
        "",
      ].join("\n"),
    );
    env = {
      KUBECONFIG: cluster.kubeconfig,
      AWS_ACCESS_KEY_ID: "AKIAREDUNK8STEST",
      AWS_SECRET_ACCESS_KEY: AWS_SECRET,
      REDUN_K8S_TEST_SECRET: SECRET,
    };
    const k8s = await import("@kubernetes/client-node");
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    batch = kc.makeApiClient(k8s.BatchV1Api);
    core = kc.makeApiClient(k8s.CoreV1Api);
  });

  after(async () => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await cluster?.stop();
  });

  /** Skips loudly without a cluster; true when the test may go on. */
  function ready(t: TestContext): boolean {
    if (!unavailable) return true;
    skipWithoutK8s(t, unavailable);
    return false;
  }

  /** `redun ARGS` in the project, killed after 10 minutes (a hang fails the test). */
  const startRedun = (args: string[]) => startCli(dir, args, k8sRunEnv(env), 600_000);
  const run = (...args: string[]) => startRedun(["run", ...args]).done;
  const jobs = async (selector = "redun_executor=k8s"): Promise<V1Job[]> =>
    // Plain objects (the client returns class instances).
    JSON.parse(
      JSON.stringify(
        (await batch.listNamespacedJob({ namespace: "default", labelSelector: selector })).items,
      ),
    ) as V1Job[];
  const lines = (file: string) =>
    fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean).sort() : [];
  /** Jobs are deleted once collected (in the background, right after the run's result). */
  const noJobsLeft = (selector?: string) =>
    waitUntil(async () => (await jobs(selector)).length === 0, "collected Jobs to be deleted");

  test("pod jobs with results and provenance; an expression result runs more jobs; a rerun is cached", async (t) => {
    if (!ready(t)) return;
    const runs = path.join(scratch, "main-runs.log");
    const first = await run("flow.ts", "main", "--x", "3", "--runs", runs);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim(), "{ square: 9, chained: 170 }");
    assert.deepEqual(lines(runs), ["remoteThenLocal 3", "square 13", "square 3"]);
    assert.equal(
      first.stderr.match(/share_id has no meaning on Kubernetes/g)?.length,
      1,
      "share_id is warned about once",
    );
    // Provenance: the pod jobs are DONE job rows; their calls' eval hashes are the scratch
    // jobs that the pods ran (each with the record of its Kubernetes Job).
    const db = new SQLite(path.join(dir, ".redun", "redun.db"), { readonly: true });
    try {
      const rows = db
        .prepare(
          "select t.fullname as task, j.status as status, c.eval_hash as evalHash from job j " +
            "join task t on t.hash = j.task_hash join call_node c on c.call_hash = j.call_hash " +
            "where t.fullname in ('k8s_flow.square', 'k8s_flow.remoteThenLocal') order by t.fullname",
        )
        .all() as { task: string; status: string; evalHash: string }[];
      assert.deepEqual(
        rows.map((r) => [r.task, r.status]),
        [
          ["k8s_flow.remoteThenLocal", "DONE"],
          ["k8s_flow.square", "DONE"],
          ["k8s_flow.square", "DONE"],
        ],
      );
      for (const row of rows) {
        const jobDir = path.join(scratch, "jobs", row.evalHash);
        assert.equal(fs.readFileSync(path.join(jobDir, "status"), "utf8"), "DONE");
        const record = JSON.parse(fs.readFileSync(path.join(jobDir, "k8s-job"), "utf8"));
        assert.deepEqual(record, { namespace: "default", name: `batch-job-${row.evalHash}` });
      }
    } finally {
      db.close();
    }
    await noJobsLeft();

    const second = await run("flow.ts", "main", "--x", "3", "--runs", runs);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout.trim(), first.stdout.trim());
    assert.equal(jobTotals(second.stderr).DONE, 0);
    assert.ok(jobTotals(second.stderr).CACHED >= 1);
    assert.deepEqual(lines(runs), ["remoteThenLocal 3", "square 13", "square 3"]);
  });

  test("a failing task shows its own error and the pod's log tail", async (t) => {
    if (!ready(t)) return;
    const result = await run("flow.ts", "fails", "--message", "boom in a pod");
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      /task "k8s_flow\.fails" failed \(job \w+\): RangeError: boom in a pod/,
    );
    assert.match(result.stderr, /--- last lines of the job's log ---/);
    assert.match(result.stderr, /about to fail: line one/);
    assert.match(result.stderr, /about to fail: line two/);
    await noJobsLeft();
  });

  test("an OOM-killed pod fails with OOMKilled", async (t) => {
    if (!ready(t)) return;
    const result = await run("flow.ts", "hog", "--mib", "2048");
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      /task "k8s_flow\.hog" on executor "k8s" ended without output or error \(exit code 137\): Kubernetes job batch-job-[0-9a-f]+ failed: BackoffLimitExceeded .*; pod batch-job-[0-9a-f]+-\w+: OOMKilled/,
    );
    await noJobsLeft();
  });

  test("a missing image fails with the Kubernetes reason", async (t) => {
    if (!ready(t)) return;
    const result = await run(
      "-o",
      "image=redun-test-missing:none",
      "flow.ts",
      "square",
      "--x",
      "5",
    );
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      /task "k8s_flow\.square" on executor "k8s" ended without output or error: Kubernetes job batch-job-[0-9a-f]+ failed: ErrImageNeverPull/,
    );
    await noJobsLeft();
  });

  test("a timeout is the Job's activeDeadlineSeconds", async (t) => {
    if (!ready(t)) return;
    const result = await run("flow.ts", "slow", "--seconds", "600");
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      /task "k8s_flow\.slow" on executor "k8s" ended without output or error.*: Kubernetes job batch-job-[0-9a-f]+ failed: DeadlineExceeded/,
    );
    await noJobsLeft();
  });

  test("secrets reach the pod through a Secret, not the Job spec; labels and annotations", async (t) => {
    if (!ready(t)) return;
    const gate = path.join(scratch, "secrets-gate");
    const started = path.join(scratch, "secrets-started");
    const proc = startRedun(["run", "flow.ts", "secrets", "--gate", gate, "--started", started]);
    // Whatever fails, the task is let go (it waits for the gate).
    t.after(() => fs.writeFileSync(gate, "open"));
    await waitUntil(() => fs.existsSync(started) || !running(proc.child), "the pod to start");
    assert.ok(running(proc.child), proc.output().stderr);
    const [job] = await jobs("redun_task_name=k8s_flow.secrets");
    assert.ok(job, "the Job exists while the pod runs");
    const labels = job.metadata!.labels!;
    assert.equal(labels.redun_executor, "k8s");
    assert.equal(labels.redun_task_name, "k8s_flow.secrets");
    assert.equal(labels.redun_project, "k8s_flow");
    assert.match(labels.redun_job_id!, /^[\w-]+$/);
    assert.match(labels.redun_execution_id!, /^[\w-]+$/);
    assert.equal(job.metadata!.name, `batch-job-${labels.redun_eval_hash}`);
    assert.equal(labels.team, "genomics");
    assert.equal(labels["cost-center"], "c42");
    assert.equal(job.metadata!.annotations!["example.com/owner"], "redun-tests");
    assert.equal(job.spec!.backoffLimit, 1);
    const podSpec = job.spec!.template.spec!;
    assert.equal(podSpec.hostNetwork, true);
    const container = podSpec.containers[0]!;
    assert.equal(container.imagePullPolicy, "Never");
    assert.deepEqual(container.resources?.requests, { memory: "512Mi" });
    assert.deepEqual(container.resources?.limits, { memory: "512Mi" });
    assert.deepEqual(container.envFrom, [{ secretRef: { name: "redun-secret" } }]);
    assert.deepEqual(container.command!.slice(0, 3), ["redun", "oneshot", "--input"]);
    const spec = JSON.stringify(job);
    assert.ok(!spec.includes(SECRET) && !spec.includes(AWS_SECRET), "no secret in the Job");
    const pods = await core.listNamespacedPod({
      namespace: "default",
      labelSelector: `job-name=${job.metadata!.name}`,
    });
    assert.equal(pods.items[0]?.metadata?.labels?.team, "genomics");
    assert.equal(pods.items[0]?.metadata?.annotations?.["example.com/owner"], "redun-tests");
    const secret = await core.readNamespacedSecret({ name: "redun-secret", namespace: "default" });
    const decode = (v?: string) => Buffer.from(v ?? "", "base64").toString("utf8");
    assert.equal(decode(secret.data?.REDUN_K8S_TEST_SECRET), SECRET);
    assert.equal(decode(secret.data?.AWS_SECRET_ACCESS_KEY), AWS_SECRET);

    fs.writeFileSync(gate, "open");
    const result = await proc.done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout.trim().replace(/\s+/g, " "),
      `{ secret: '${sha(SECRET)}', aws: '${sha(AWS_SECRET)}', index: null }`,
    );
    assert.ok(!(result.stdout + result.stderr).includes(SECRET));
    // The Job's redun_job_id is the job's provenance row.
    const db = new SQLite(path.join(dir, ".redun", "redun.db"), { readonly: true });
    try {
      const row = db.prepare("select status from job where id = ?").get(labels.redun_job_id) as
        { status: string } | undefined;
      assert.equal(row?.status, "DONE");
    } finally {
      db.close();
    }
    await noJobsLeft();
  });

  test("a SIGKILLed scheduler, started again, waits for the same Job", async (t) => {
    if (!ready(t)) return;
    const gate = path.join(scratch, "kill-gate");
    const started = path.join(scratch, "kill-started");
    const runs = path.join(scratch, "kill-runs.log");
    const args = ["run", "flow.ts", "gated", "--gate", gate, "--started", started, "--runs", runs];
    t.after(() => fs.writeFileSync(gate, "open"));
    const first = startRedun(args);
    await waitUntil(() => fs.existsSync(started) || !running(first.child), "the pod");
    assert.ok(running(first.child), first.output().stderr);
    const [before] = await jobs("redun_task_name=k8s_flow.gated");
    assert.ok(before?.metadata?.uid);
    first.child.kill("SIGKILL");
    await first.done;

    const second = startRedun(args);
    await waitUntil(
      () =>
        /reunited with Kubernetes job batch-job-/.test(second.output().stderr) ||
        !running(second.child),
      "the second scheduler to find the Job",
    );
    const now = await jobs("redun_task_name=k8s_flow.gated");
    assert.deepEqual(
      now.map((j) => j.metadata?.uid),
      [before.metadata!.uid],
      "no second Job was created",
    );
    fs.writeFileSync(gate, "open");
    const result = await second.done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "gated done");
    assert.deepEqual(lines(runs), ["gated"], "the call ran once");
    await noJobsLeft();
  });

  test("Ctrl-C deletes the Jobs in flight", async (t) => {
    if (!ready(t)) return;
    const gate = path.join(scratch, "int-gate");
    const started = path.join(scratch, "int-started");
    const runs = path.join(scratch, "int-runs.log");
    const proc = startRedun([
      "run",
      "flow.ts",
      "gated",
      "--gate",
      gate,
      "--started",
      started,
      "--runs",
      runs,
    ]);
    t.after(() => {
      fs.writeFileSync(gate, "open");
      if (running(proc.child)) proc.child.kill("SIGKILL");
    });
    await waitUntil(() => fs.existsSync(started) || !running(proc.child), "the pod");
    assert.ok(running(proc.child), proc.output().stderr);
    const [job] = await jobs("redun_task_name=k8s_flow.gated");
    assert.ok(job?.metadata?.name);
    proc.child.kill("SIGINT");
    const result = await proc.done;
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /deleting 1 Kubernetes job\(s\)/);
    assert.deepEqual(await jobs("redun_task_name=k8s_flow.gated"), [], "the Job is deleted");
    await waitUntil(
      async () =>
        (
          await core.listNamespacedPod({
            namespace: "default",
            labelSelector: `job-name=${job.metadata!.name}`,
          })
        ).items.length === 0,
      "the Job's pod to be removed",
    );
  });

  test("arrays on a server without Indexed Jobs: single Jobs and one warning", async (t) => {
    if (!ready(t)) return;
    const runs = path.join(scratch, "fanout-runs.log");
    const result = await run("flow.ts", "fanout", "--n", "3", "--runs", runs);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "[ 0, 1, 4 ]");
    assert.equal(
      result.stderr.match(
        /is too old for Indexed Jobs \(1\.21\+\): array jobs are submitted as single jobs/g,
      )?.length,
      1,
      result.stderr,
    );
    assert.deepEqual(lines(runs), ["square 0", "square 1", "square 2"]);
    assert.equal(fs.existsSync(path.join(scratch, "array")), false, "no array job list");
    await noJobsLeft();
  });
});
