/**
 * The effective AWS Batch settings of one job: the executor's `[executors.NAME]` options,
 * overridden by the task's own options (camelCase task options, e.g. `vcpus`, `queue`,
 * `jobNamePrefix`, `batchRetries`).
 */
import type { AwsBatchOptions } from "./batch-schema.ts";

/** Batch settings that apply to one job. */
export interface BatchJobSettings {
  image: string;
  queue: string;
  /** Region of the Batch service (`undefined`: the SDK's default). */
  region: string | undefined;
  /** Job role ARN; `undefined`: the account's ecsTaskExecutionRole; `null`: no role. */
  role: string | null | undefined;
  vcpus: number;
  gpus: number;
  /** GiB. */
  memory: number;
  /** AWS Batch attempts (retryStrategy), 1 to 10. */
  attempts: number;
  /** Seconds; `undefined`: no timeout. */
  timeout: number | undefined;
  privileged: boolean;
  jobNamePrefix: string;
  batchTags: Record<string, string>;
  defaultBatchTags: boolean;
  /** Nodes of a multi-node job; `undefined`: an ordinary (single container) job. */
  numNodes: number | undefined;
  autocreateJobDef: boolean;
  jobDefName: string | undefined;
  shareId: string | undefined;
  schedulingPriorityOverride: number | undefined;
}

/** Which task option (camelCase) overrides which executor option (snake_case). */
const OVERRIDES = {
  image: "image",
  queue: "queue",
  awsRegion: "aws_region",
  role: "role",
  vcpus: "vcpus",
  gpus: "gpus",
  memory: "memory",
  batchRetries: "retries",
  timeout: "timeout",
  privileged: "privileged",
  jobNamePrefix: "job_name_prefix",
  batchTags: "batch_tags",
  defaultBatchTags: "default_batch_tags",
  numNodes: "num_nodes",
  autocreateJobDef: "autocreate_job_def",
  jobDefName: "job_def_name",
  shareId: "share_id",
  schedulingPriorityOverride: "scheduling_priority_override",
} as const;

/** AWS Batch allows 1 to 10 attempts per job. */
const MAX_ATTEMPTS = 10;

function isNone(value: unknown): boolean {
  return value === null || value === "None";
}

function positiveInt(value: unknown, what: string, task: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new Error(
      `task "${task}": the option ${what} must be a non-negative integer, not ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * The settings of one job: each task option in {@link OVERRIDES} that is set replaces the
 * executor's value. `role: null` or `"None"` disables the job role.
 */
export function resolveJobSettings(
  executor: AwsBatchOptions,
  taskOptions: Readonly<Record<string, unknown>>,
  taskName: string,
): BatchJobSettings {
  const merged: Record<string, unknown> = { ...executor };
  for (const [camel, snake] of Object.entries(OVERRIDES)) {
    if (taskOptions[camel] !== undefined) merged[snake] = taskOptions[camel];
  }
  const tags = (merged.batch_tags ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(tags)) {
    if (typeof value !== "string") {
      throw new Error(
        `task "${taskName}": batch tag "${key}" must be a string, not ${JSON.stringify(value)}`,
      );
    }
  }
  const timeout = merged.timeout;
  const numNodes = merged.num_nodes;
  return {
    image: String(merged.image),
    queue: String(merged.queue),
    region: (merged.aws_region as string | null | undefined) ?? undefined,
    role: isNone(merged.role) ? null : ((merged.role as string | undefined) ?? undefined),
    vcpus: positiveInt(merged.vcpus, "vcpus", taskName),
    gpus: positiveInt(merged.gpus, "gpus", taskName),
    memory: Number(merged.memory),
    attempts: Math.min(
      MAX_ATTEMPTS,
      Math.max(1, positiveInt(merged.retries, "batchRetries", taskName)),
    ),
    timeout:
      isNone(timeout) || timeout === undefined
        ? undefined
        : positiveInt(timeout, "timeout", taskName),
    privileged: Boolean(merged.privileged),
    jobNamePrefix: String(merged.job_name_prefix),
    batchTags: tags as Record<string, string>,
    defaultBatchTags: merged.default_batch_tags !== false,
    numNodes:
      isNone(numNodes) || numNodes === undefined
        ? undefined
        : positiveInt(numNodes, "numNodes", taskName),
    autocreateJobDef: merged.autocreate_job_def !== false,
    jobDefName: (merged.job_def_name as string | null | undefined) ?? undefined,
    shareId: (merged.share_id as string | null | undefined) ?? undefined,
    schedulingPriorityOverride:
      (merged.scheduling_priority_override as number | null | undefined) ?? undefined,
  };
}

/**
 * What makes jobs "equivalent" for array jobs: the same task and the same settings
 * (image, queue, resources, role, tags, …), arguments aside.
 */
export function equivalenceKey(taskFullname: string, settings: BatchJobSettings): string {
  return JSON.stringify([taskFullname, settings]);
}
