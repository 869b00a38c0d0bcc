/**
 * The `batch/v1` Job of a call (or of an array of calls): its name (`PREFIX-EVAL_HASH`,
 * DNS-1123, at most 63 characters), labels and annotations, resources as requests and limits,
 * the secret read through `envFrom`, the scratch directory as a `hostPath` volume, and for an
 * array the Indexed completion mode (each pod reads its index from `JOB_COMPLETION_INDEX`).
 */
import { createHash } from "node:crypto";
import type { V1Job, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import { isUri } from "../../files/filesystem.ts";
import type { K8sJobSettings } from "./k8s-settings.ts";

/** Job names end up in the pods' `job-name` label: at most 63 characters. */
const MAX_NAME = 63;
/** Label values: at most 63 characters of `[A-Za-z0-9._-]`, alphanumeric at both ends. */
const MAX_LABEL = 63;

/** A DNS-1123 label from any text: lowercase alphanumerics and `-`, trimmed. */
export function dnsLabel(text: string, max = MAX_NAME): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .slice(0, max)
    .replace(/^-+|-+$/g, "");
}

/** `PREFIX-TAIL` as a DNS-1123 name of at most 63 characters (the prefix is cut first). */
function jobNameOf(prefix: string, tail: string): string {
  const end = dnsLabel(tail, MAX_NAME - 2);
  const head = dnsLabel(prefix, MAX_NAME - end.length - 1);
  return head ? `${head}-${end}` : end;
}

/** The name of a single job: `PREFIX-EVAL_HASH`. */
export function singleJobName(prefix: string, evalHash: string): string {
  return jobNameOf(prefix, evalHash);
}

/** The name of an Indexed Job: `PREFIX-array-ARRAY_ID`. */
export function arrayJobName(prefix: string, arrayId: string): string {
  return jobNameOf(prefix, `array-${arrayId}`);
}

/** The id of an array: a hash of its children's eval hashes, in order. */
export function arrayIdOf(evalHashes: readonly string[]): string {
  return createHash("sha1").update(evalHashes.join("\n")).digest("hex");
}

/** A valid label value from any text (`""` when nothing is left). */
export function labelValue(text: string): string {
  return text
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .slice(0, MAX_LABEL)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}

/** What the labels of a job describe. */
export interface LabelContext {
  /** The executor's identity label (redun finds its Jobs and Pods by it). */
  executor: string;
  /** The redun job (for an array: the first child's). */
  jobId: string;
  taskName: string;
  executionId: string;
  /** A single job's eval hash. */
  evalHash?: string;
  /** An array's id. */
  arrayId?: string;
}

/** The label redun finds its Jobs and Pods by (one value per executor name). */
export const EXECUTOR_LABEL = "redun_executor";

/** The project of a task: the first part of its namespace (the task name without one). */
export function projectOf(taskFullname: string): string {
  const dot = taskFullname.indexOf(".");
  return dot === -1 ? taskFullname : taskFullname.slice(0, dot);
}

/**
 * A job's labels: redun's identity labels (executor, eval hash or array id: always, redun
 * finds its Jobs by them), with `default_k8s_labels` the job id, task name, execution id and
 * project, then the user's `k8s_labels` (which win).
 */
export function jobLabels(settings: K8sJobSettings, context: LabelContext): Record<string, string> {
  const labels: Record<string, string> = { [EXECUTOR_LABEL]: labelValue(context.executor) };
  if (settings.defaultLabels) {
    labels.redun_job_id = labelValue(context.jobId);
    labels.redun_task_name = labelValue(context.taskName);
    labels.redun_execution_id = labelValue(context.executionId);
    labels.redun_project = labelValue(projectOf(context.taskName));
  }
  if (context.evalHash) labels.redun_eval_hash = labelValue(context.evalHash);
  if (context.arrayId) labels.redun_array_id = labelValue(context.arrayId);
  return { ...labels, ...settings.labels };
}

/** Where and how the pod runs, besides the job's settings. */
export interface PodContext {
  /** The scratch root: a local directory is mounted at the same path (hostPath). */
  scratch: string;
  /** The Secret read through `envFrom`, when there is one. */
  secretName?: string;
  /** The pod starts without the Secret when it does not exist (one redun did not write). */
  secretOptional?: boolean;
  /** `ttlSecondsAfterFinished` (servers ≥ 1.21): a backstop for Jobs nobody collects. */
  ttlSeconds?: number;
  imagePullPolicy?: string;
  hostNetwork?: boolean;
}

/** A CPU quantity (`1`, `500m`). */
export function cpuQuantity(vcpus: number): string {
  return Number.isInteger(vcpus) ? String(vcpus) : `${Math.max(1, Math.round(vcpus * 1000))}m`;
}

/** A memory quantity in MiB from GiB. */
export function memoryQuantity(gib: number): string {
  return `${Math.max(1, Math.round(gib * 1024))}Mi`;
}

/** The Job running `command` (`completions` > 0: an Indexed Job of that many pods). */
export function jobManifest(
  name: string,
  labels: Record<string, string>,
  settings: K8sJobSettings,
  pod: PodContext,
  command: string[],
  completions?: number,
): V1Job {
  const resources: Record<string, string> = {};
  if (settings.vcpus > 0) resources.cpu = cpuQuantity(settings.vcpus);
  if (settings.memory > 0) resources.memory = memoryQuantity(settings.memory);
  const volumes: V1Volume[] = [];
  const volumeMounts: V1VolumeMount[] = [];
  if (!isUri(pod.scratch)) {
    // Same path inside and out: every path in the job's input is valid in the pod.
    volumes.push({
      name: "redun-scratch",
      hostPath: { path: pod.scratch, type: "DirectoryOrCreate" },
    });
    volumeMounts.push({ name: "redun-scratch", mountPath: pod.scratch });
  }
  const annotations = Object.keys(settings.annotations).length ? settings.annotations : undefined;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: settings.namespace, labels, annotations },
    spec: {
      backoffLimit: settings.backoffLimit,
      ...(settings.timeout !== undefined ? { activeDeadlineSeconds: settings.timeout } : {}),
      ...(pod.ttlSeconds !== undefined ? { ttlSecondsAfterFinished: pod.ttlSeconds } : {}),
      ...(completions !== undefined
        ? { completions, parallelism: completions, completionMode: "Indexed" }
        : {}),
      template: {
        metadata: { labels, annotations },
        spec: {
          restartPolicy: "Never",
          serviceAccountName: settings.serviceAccountName,
          ...(pod.hostNetwork ? { hostNetwork: true } : {}),
          containers: [
            {
              name: "redun-job",
              image: settings.image,
              ...(pod.imagePullPolicy ? { imagePullPolicy: pod.imagePullPolicy } : {}),
              command,
              resources: Object.keys(resources).length
                ? { requests: resources, limits: resources }
                : undefined,
              ...(pod.secretName
                ? {
                    envFrom: [
                      {
                        secretRef: {
                          name: pod.secretName,
                          ...(pod.secretOptional ? { optional: true } : {}),
                        },
                      },
                    ],
                  }
                : {}),
              ...(volumeMounts.length ? { volumeMounts } : {}),
            },
          ],
          ...(volumes.length ? { volumes } : {}),
        },
      },
    },
  };
}
