/**
 * The effective Kubernetes settings of one job: the executor's `[executors.NAME]` options,
 * overridden by the task's own options (camelCase: `image`, `vcpus`, `memory`, `k8sNamespace`,
 * `serviceAccountName`, `annotations`, `k8sLabels`, `k8sRetries`, `timeout`).
 */
import type { K8sOptions } from "./k8s-schema.ts";

/** Kubernetes settings that apply to one job. */
export interface K8sJobSettings {
  image: string;
  namespace: string;
  /** CPUs (request and limit); 0: none set. */
  vcpus: number;
  /** GiB (request and limit); 0: none set. */
  memory: number;
  /** The Job's backoffLimit (retries of a failed pod). */
  backoffLimit: number;
  /** activeDeadlineSeconds; `undefined`: none. */
  timeout: number | undefined;
  serviceAccountName: string;
  annotations: Record<string, string>;
  /** The user's labels (`k8s_labels`, `k8sLabels`). */
  labels: Record<string, string>;
  defaultLabels: boolean;
  jobNamePrefix: string;
}

/** Which task option (camelCase) overrides which executor option (snake_case). */
const OVERRIDES = {
  image: "image",
  vcpus: "vcpus",
  memory: "memory",
  k8sNamespace: "namespace",
  serviceAccountName: "service_account_name",
  annotations: "annotations",
  k8sLabels: "k8s_labels",
  k8sRetries: "retries",
  timeout: "timeout",
} as const;

function stringRecord(value: unknown, what: string, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`${where}: ${what} must be an object of strings, not ${JSON.stringify(value)}`);
  }
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
      throw new Error(`${where}: ${what} "${key}" must be a string, not ${JSON.stringify(v)}`);
    }
    out[key] = String(v);
  }
  return out;
}

function nonNegative(value: unknown, what: string, where: string, integer: boolean): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new Error(
      `${where}: ${what} must be a non-negative ${integer ? "integer" : "number"}, not ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/**
 * The settings of one job: each task option in {@link OVERRIDES} that is set wins, except
 * `annotations` and `k8sLabels`, which add to the executor's.
 */
export function resolveK8sJobSettings(
  executor: K8sOptions,
  taskOptions: Readonly<Record<string, unknown>>,
  taskName: string,
): K8sJobSettings {
  const merged: Record<string, unknown> = { ...executor };
  for (const [camel, snake] of Object.entries(OVERRIDES)) {
    if (taskOptions[camel] !== undefined && taskOptions[camel] !== null) {
      merged[snake] = taskOptions[camel];
    }
  }
  const where = `task "${taskName}"`;
  const timeout = merged.timeout;
  const seconds =
    timeout === undefined || timeout === null || timeout === "None"
      ? undefined
      : nonNegative(timeout, "the option timeout", where, false);
  return {
    image: String(merged.image),
    namespace: String(merged.namespace),
    vcpus: nonNegative(merged.vcpus, "vcpus", where, false),
    memory: nonNegative(merged.memory, "memory", where, false),
    backoffLimit: nonNegative(merged.retries, "k8sRetries", where, true),
    // 0 is no limit (as for the local executor); Kubernetes needs whole seconds ≥ 1.
    timeout: seconds ? Math.max(1, Math.ceil(seconds)) : undefined,
    serviceAccountName: String(merged.service_account_name),
    // A task's labels and annotations add to the executor's (the task's win per key).
    annotations: {
      ...stringRecord(executor.annotations, "annotation", where),
      ...stringRecord(taskOptions.annotations, "annotation", where),
    },
    labels: {
      ...stringRecord(executor.k8s_labels, "k8s label", where),
      ...stringRecord(taskOptions.k8sLabels, "k8s label", where),
    },
    defaultLabels: merged.default_k8s_labels !== false,
    jobNamePrefix: String(merged.job_name_prefix),
  };
}

/** Jobs of the same task with the same settings may share an Indexed Job. */
export function k8sEquivalenceKey(taskFullname: string, settings: K8sJobSettings): string {
  return JSON.stringify([taskFullname, settings]);
}
