/**
 * The Kubernetes executor's Indexed Jobs against a FAKE Kubernetes API server (our real test
 * cluster runs v1.20, which has no Indexed Jobs): an in-process HTTP server answering
 * `/version`, Job creation, Job and Pod lists and Job deletion with responses shaped like a
 * real server's. For an Indexed Job it runs each child for real, as a kubelet would: the Job's
 * own command (`redun oneshot --array-jobs …`), with `JOB_COMPLETION_INDEX` set, so each child
 * picks its call by its index. The workflow runs through the real `redun run`.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { indexCompleted } from "../src/executors/kubernetes/k8s-monitor.ts";
import { BIN, makeProject, startRedun } from "./helpers/cli.ts";
import { k8sRunEnv } from "./helpers/k8s.ts";

const FIXTURE = path.resolve(import.meta.dirname, "fixtures/workflows/k8s-flow.ts");

interface FakeJob {
  body: {
    metadata: { name: string; labels?: Record<string, string>; uid?: string };
    spec: {
      completions?: number;
      parallelism?: number;
      completionMode?: string;
      template: { spec: { containers: { command: string[] }[] } };
    };
    status?: Record<string, unknown>;
  };
  done: Set<number>;
  failed: Set<number>;
}

/** A fake Kubernetes API (see the file comment) that records the requests it gets. */
class FakeKubernetesApi {
  readonly requests: { method: string; url: string; body?: unknown }[] = [];
  readonly jobs = new Map<string, FakeJob>();
  private server!: http.Server;
  port = 0;

  constructor(
    private readonly minor: string,
    private readonly cwd: string,
  ) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let data = "";
      req.on("data", (d) => (data += d));
      req.on("end", () => {
        const body = data ? JSON.parse(data) : undefined;
        this.requests.push({ method: req.method!, url: req.url!, body });
        const [status, reply] = this.answer(req.method!, new URL(req.url!, "http://x"), body);
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(reply));
      });
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private answer(method: string, url: URL, body: unknown): [number, unknown] {
    const p = url.pathname;
    if (p === "/version") {
      // As recorded from a v1.27 server.
      return [
        200,
        {
          major: "1",
          minor: this.minor,
          gitVersion: `v1.${this.minor}.3`,
          gitCommit: "25b4e43193bcda6c7328a6d147b1fb73a33f1598",
          gitTreeState: "clean",
          buildDate: "2023-06-14T09:47:40Z",
          goVersion: "go1.20.5",
          compiler: "gc",
          platform: "linux/amd64",
        },
      ];
    }
    const jobs = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs(?:\/([^/]+))?$/.exec(p);
    if (jobs && method === "POST") {
      const job = body as FakeJob["body"];
      job.metadata.uid = `uid-${this.jobs.size}`;
      const fake: FakeJob = { body: job, done: new Set(), failed: new Set() };
      this.jobs.set(job.metadata.name, fake);
      this.run(fake);
      return [201, { ...job, status: {} }];
    }
    if (jobs && method === "GET" && !jobs[2]) {
      const selector = url.searchParams.get("labelSelector") ?? "";
      const items = [...this.jobs.values()]
        .filter((j) => matches(j.body.metadata.labels ?? {}, selector))
        .map((j) => ({ ...j.body, status: this.status(j) }));
      return [
        200,
        { kind: "JobList", apiVersion: "batch/v1", metadata: { resourceVersion: "1" }, items },
      ];
    }
    if (jobs && method === "DELETE" && jobs[2]) {
      const existed = this.jobs.delete(jobs[2]);
      return existed
        ? [200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success" }]
        : [404, { kind: "Status", status: "Failure", reason: "NotFound", code: 404 }];
    }
    if (/^\/api\/v1\/namespaces\/[^/]+\/pods$/.test(p) && method === "GET") {
      return [
        200,
        { kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: "1" }, items: [] },
      ];
    }
    return [
      404,
      { kind: "Status", status: "Failure", message: `fake: no ${method} ${p}`, code: 404 },
    ];
  }

  /** The Job's status, as the Job controller of 1.22+ reports it. */
  private status(job: FakeJob): Record<string, unknown> {
    const completions = job.body.spec.completions ?? 1;
    const done = [...job.done].sort((a, b) => a - b);
    const status: Record<string, unknown> = {
      startTime: "2026-11-30T08:00:00Z",
      active: completions - job.done.size - job.failed.size,
      succeeded: job.done.size,
      ...(job.failed.size ? { failed: job.failed.size } : {}),
      ...(job.body.spec.completionMode === "Indexed" && done.length
        ? { completedIndexes: compress(done) }
        : {}),
    };
    if (job.done.size === completions) {
      status.conditions = [{ type: "Complete", status: "True", lastProbeTime: null }];
      status.completionTime = "2026-11-30T08:00:09Z";
    }
    return status;
  }

  /** Runs the Job's pods here: its command, with JOB_COMPLETION_INDEX for Indexed Jobs. */
  private run(job: FakeJob): void {
    const [command] = job.body.spec.template.spec.containers.map((c) => c.command);
    const indexed = job.body.spec.completionMode === "Indexed";
    const count = indexed ? (job.body.spec.completions ?? 1) : 1;
    for (let index = 0; index < count; index++) {
      const [exe, ...args] = command!;
      assert.equal(exe, "redun");
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd: this.cwd,
        env: { ...process.env, ...(indexed ? { JOB_COMPLETION_INDEX: String(index) } : {}) },
        stdio: "ignore",
      });
      child.on("exit", (code) => (code === 0 ? job.done : job.failed).add(index));
    }
  }
}

/** `0,1,2,5` → `0-2,5`. */
function compress(indexes: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < indexes.length;) {
    let j = i;
    while (j + 1 < indexes.length && indexes[j + 1] === indexes[j]! + 1) j++;
    parts.push(i === j ? `${indexes[i]}` : `${indexes[i]}-${indexes[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** Equality-based label selectors (`a=b,c=d`). */
function matches(labels: Record<string, string>, selector: string): boolean {
  return selector
    .split(",")
    .filter(Boolean)
    .every((term) => {
      const [k, v] = term.split("=");
      return labels[k!] === v;
    });
}

describe("k8s executor against a fake Kubernetes API (Indexed Jobs)", () => {
  let fake: FakeKubernetesApi;
  let dir = "";
  let scratch = "";

  before(async () => {
    dir = makeProject({
      "package.json": JSON.stringify({ type: "module" }),
      "flow.ts": fs.readFileSync(FIXTURE, "utf8"),
    });
    scratch = path.join(dir, ".redun", "scratch");
    fake = new FakeKubernetesApi("27", dir);
    await fake.start();
    const kubeconfig = [
      "apiVersion: v1",
      "kind: Config",
      `clusters: [{name: fake, cluster: {server: "http://127.0.0.1:${fake.port}", insecure-skip-tls-verify: true}}]`,
      "users: [{name: fake, user: {token: fake-token}}]",
      "contexts: [{name: fake, context: {cluster: fake, user: fake}}]",
      "current-context: fake",
      "",
    ].join("\n");
    fs.mkdirSync(path.join(dir, ".redun"), { recursive: true });
    fs.writeFileSync(path.join(dir, ".redun", "fake-kubeconfig"), kubeconfig);
    fs.writeFileSync(
      path.join(dir, ".redun", "redun.ini"),
      [
        "[backend]",
        "db_uri = sqlite:///redun.db",
        "[scheduler]",
        "job_status_interval = 0",
        "ignore_warnings = namespace",
        "[executors.k8s]",
        "type = k8s",
        "image = fake-image:1",
        "scratch = scratch",
        "kubeconfig = fake-kubeconfig",
        "import_aws_secrets = false",
        "min_array_size = 2",
        "job_stale_time = 0.5",
        "job_monitor_interval = 0.2",
        "",
      ].join("\n"),
    );
  });

  after(async () => {
    await fake?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test("completedIndexes parsing", () => {
    assert.equal(indexCompleted("0-2,5", 1), true);
    assert.equal(indexCompleted("0-2,5", 5), true);
    assert.equal(indexCompleted("0-2,5", 3), false);
    assert.equal(indexCompleted(undefined, 0), false);
    assert.equal(compress([0, 1, 2, 5]), "0-2,5");
  });

  test("equivalent calls go as one Indexed Job; each child runs its call by JOB_COMPLETION_INDEX", async () => {
    const runs = path.join(scratch, "fanout-runs.log");
    fs.mkdirSync(scratch, { recursive: true });
    const result = await startRedun(
      dir,
      ["run", "flow.ts", "fanout", "--n", "3", "--runs", runs],
      k8sRunEnv({}),
      600_000,
    ).done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "[ 0, 1, 4 ]");
    const posts = fake.requests.filter((r) => r.method === "POST");
    assert.equal(posts.length, 1, "one Job for the three calls");
    const job = posts[0]!.body as FakeJob["body"];
    assert.match(job.metadata.name, /^batch-job-array-[0-9a-f]{40}$/);
    assert.equal(job.spec.completionMode, "Indexed");
    assert.equal(job.spec.completions, 3);
    assert.equal(job.spec.parallelism, 3);
    assert.equal(job.metadata.labels!.redun_executor, "k8s");
    assert.equal(job.metadata.labels!.redun_task_name, "k8s_flow.square");
    const arrayId = job.metadata.labels!.redun_array_id!;
    assert.match(arrayId, /^[0-9a-f]{40}$/);
    const command = job.spec.template.spec.containers[0]!.command;
    const list = path.join(scratch, "array", arrayId, "jobs");
    assert.deepEqual(command.slice(0, 4), ["redun", "oneshot", "--array-jobs", list]);
    assert.equal(command[4], "--code");
    // Each child ran its own call, picked by its index from the array's job list.
    const hashes = JSON.parse(fs.readFileSync(list, "utf8")) as string[];
    assert.equal(hashes.length, 3);
    const lines = fs.readFileSync(runs, "utf8").split("\n").filter(Boolean).sort();
    assert.deepEqual(lines, ["square 0", "square 1", "square 2"]);
    for (const hash of hashes) {
      assert.equal(fs.readFileSync(path.join(scratch, "jobs", hash, "status"), "utf8"), "DONE");
      const record = JSON.parse(
        fs.readFileSync(path.join(scratch, "jobs", hash, "k8s-job"), "utf8"),
      );
      assert.equal(record.name, job.metadata.name);
    }
    // ttlSecondsAfterFinished as a backstop on servers that have it; deleted once collected.
    assert.equal((job.spec as { ttlSecondsAfterFinished?: number }).ttlSecondsAfterFinished, 86400);
    const deletes = fake.requests.filter((r) => r.method === "DELETE");
    assert.equal(deletes.length, 1);
    assert.match(deletes[0]!.url, new RegExp(`/jobs/${job.metadata.name}\\?`));
    assert.match(deletes[0]!.url + JSON.stringify(deletes[0]!.body ?? {}), /Background/);
    assert.doesNotMatch(result.stderr, /too old for Indexed Jobs/);
  });
});
