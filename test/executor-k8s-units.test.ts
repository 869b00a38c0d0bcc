/**
 * The Kubernetes executor's pure parts: Job names (DNS-1123, ≤ 63 characters), label values,
 * the Job manifest (resources, secret, hostPath scratch, deadline, Indexed mode), per-task
 * settings and the Secret's data. The executor itself is tested on a real cluster
 * (executor-k8s.test.ts) and against a fake API server (executor-k8s-fake-api.test.ts).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  arrayJobName,
  cpuQuantity,
  jobLabels,
  jobManifest,
  labelValue,
  singleJobName,
} from "../src/executors/kubernetes/k8s-job.ts";
import { secretData } from "../src/executors/kubernetes/k8s-secret.ts";
import { resolveK8sJobSettings } from "../src/executors/kubernetes/k8s-settings.ts";
import { k8sExecutorOptions } from "../src/executors/kubernetes/k8s-executor.ts";

const HASH = "0123456789abcdef0123456789abcdef01234567";

describe("k8s executor units", () => {
  test("job names are DNS-1123 labels of at most 63 characters", () => {
    assert.equal(singleJobName("batch-job", HASH), `batch-job-${HASH}`);
    const long = singleJobName("My_Very.Long Prefix".repeat(5), HASH);
    assert.ok(long.length <= 63, long);
    assert.match(long, /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
    assert.ok(long.endsWith(HASH), "the hash is kept whole");
    assert.ok(arrayJobName("x", HASH).length <= 63);
  });

  test("label values are made label-safe", () => {
    assert.equal(labelValue("k8s_flow.square"), "k8s_flow.square");
    assert.equal(labelValue("-a b/c-"), "a_b_c");
    assert.equal(labelValue("x".repeat(80)).length, 63);
  });

  test("settings: task options override the executor's; labels and the manifest", () => {
    const options = k8sExecutorOptions("k", {
      image: "img:1",
      scratch: "/shared/scratch",
      k8s_labels: '{"team": "a"}',
      vcpus: "2",
    });
    const settings = resolveK8sJobSettings(
      options,
      { k8sLabels: { team: "b" }, memory: 0.5, timeout: 7.2, k8sRetries: 3, vcpus: 0.5 },
      "ns.task",
    );
    assert.equal(settings.backoffLimit, 3);
    assert.equal(settings.timeout, 8);
    assert.equal(cpuQuantity(settings.vcpus), "500m");
    const labels = jobLabels(settings, {
      executor: "k",
      jobId: "j1",
      taskName: "ns.task",
      executionId: "e1",
      evalHash: HASH,
    });
    assert.deepEqual(labels, {
      redun_executor: "k",
      redun_job_id: "j1",
      redun_task_name: "ns.task",
      redun_execution_id: "e1",
      redun_project: "ns",
      redun_eval_hash: HASH,
      team: "b",
    });
    const job = jobManifest(
      "n",
      labels,
      settings,
      { scratch: "/shared/scratch", secretName: "s" },
      ["redun", "oneshot"],
    );
    assert.equal(job.spec!.activeDeadlineSeconds, 8);
    assert.equal(job.spec!.backoffLimit, 3);
    assert.equal(job.spec!.completionMode, undefined);
    const pod = job.spec!.template.spec!;
    assert.deepEqual(pod.volumes, [
      { name: "redun-scratch", hostPath: { path: "/shared/scratch", type: "DirectoryOrCreate" } },
    ]);
    const c = pod.containers[0]!;
    assert.deepEqual(c.resources, {
      requests: { cpu: "500m", memory: "512Mi" },
      limits: { cpu: "500m", memory: "512Mi" },
    });
    assert.deepEqual(c.envFrom, [{ secretRef: { name: "s" } }]);
    const indexed = jobManifest("n", labels, settings, { scratch: "s3://b/x" }, ["r"], 4);
    assert.equal(indexed.spec!.completionMode, "Indexed");
    assert.equal(indexed.spec!.completions, 4);
    assert.equal(indexed.spec!.template.spec!.volumes, undefined, "no hostPath for s3://");
    assert.throws(
      () => resolveK8sJobSettings(options, { k8sLabels: { a: { b: 1 } } }, "ns.task"),
      /task "ns\.task": k8s label "a" must be a string/,
    );
  });

  test("the Secret holds AWS_* (with import_aws_secrets) and secret_env_vars", () => {
    const env = { AWS_ACCESS_KEY_ID: "A", AWS_SECRET_ACCESS_KEY: "S", TOKEN: "t", OTHER: "o" };
    assert.deepEqual(secretData(true, ["TOKEN", "MISSING"], env), {
      data: { AWS_ACCESS_KEY_ID: "A", AWS_SECRET_ACCESS_KEY: "S", TOKEN: "t" },
      missing: ["MISSING"],
    });
    assert.deepEqual(secretData(false, [], env), { data: {}, missing: [] });
  });
});
