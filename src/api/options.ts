/**
 * Task options: what a task definition, a call, or an ancestor can set.
 */

/** Where a call's cached results may come from. */
export type CacheScope = "none" | "cse" | "backend";

/**
 * Options of executors that a task may override for itself (camelCase here, snake_case in
 * `redun.ini`). Each executor reads the ones it knows.
 */
export interface ExecutorTaskOptions {
  /** Memory in GiB. */
  memory?: number;
  vcpus?: number;
  gpus?: number;
  /** Container image. */
  image?: string;
  /** AWS Batch queue. */
  queue?: string;
  /** IAM role ARN; `null` or `"None"` disables it. */
  role?: string | null;
  /** Seconds (AWS Batch) or minutes (AWS Glue) before the job is killed. */
  timeout?: number;
  privileged?: boolean;
  jobNamePrefix?: string;
  batchTags?: Record<string, string>;
  defaultBatchTags?: boolean;
  numNodes?: number;
  /** AWS Batch: region, job definition name, whether to create job definitions. */
  awsRegion?: string;
  jobDefName?: string;
  autocreateJobDef?: boolean;
  /** AWS Batch attempts per job (the executor's `retries`); `retries` is the scheduler's. */
  batchRetries?: number;
  shareId?: string;
  schedulingPriorityOverride?: number;
  /** AWS Glue workers and worker type. */
  workers?: number;
  workerType?: string;
  serviceAccountName?: string;
  annotations?: Record<string, string>;
  k8sLabels?: Record<string, string>;
  interactive?: boolean;
  /** Options of executors registered by users, by their snake_case names. */
  executorOptions?: Record<string, unknown>;
}

/** Options of a task. See SPEC §2.1. */
export interface TaskOptions extends ExecutorTaskOptions {
  /** Task name; defaults to the function's own name. */
  name?: string;
  /** Dot-separated namespace, e.g. `"acme.genomics"`. */
  namespace?: string;
  /** When set, replaces the source text in the task hash: bump it to force reruns. */
  version?: string;
  /** `false` means `cacheScope: "cse"`. Default `true`. */
  cache?: boolean;
  /** Default `"backend"`. */
  cacheScope?: CacheScope;
  /**
   * `"full"` (default): cache each reduction and re-check every step.
   * `"shallow"`: cache the final value, trusted while every task beneath is unchanged.
   */
  checkValid?: "full" | "shallow";
  /** Executor name from `[executors.NAME]`. Default `"default"`. */
  executor?: string;
  /** Named resource amounts held while the task runs: `["db"]` or `{ db: 2 }`. */
  limits?: string[] | Record<string, number>;
  /** How many times a failed job is run again. Default 0. */
  retries?: number;
  /** Extra values mixed into the task hash (e.g. versions of closed-over data). */
  hashIncludes?: unknown[];
  /** Parameter names left out of the cache key (e.g. a thread count). */
  configArgs?: string[];
  /** Fixed length of an array result, so the call can be destructured. */
  nout?: number;
  /** The task returns a shell command, which is run as the task's result. */
  script?: boolean;
  /** Record provenance for this task (default true). */
  prov?: boolean;
}

/** Options that may be changed for one call (everything but identity). */
export type CallTaskOptions = Omit<TaskOptions, "name" | "namespace" | "version" | "hashIncludes">;

/** Options attached to one call by `.options()` / `.exportOptions()`. */
export interface CallOptions {
  /** For this call only. */
  options?: CallTaskOptions;
  /** For this call and every call beneath it. */
  exportOptions?: CallTaskOptions;
  /** Context merged into the call's (and inherited by every call beneath it). */
  context?: Record<string, unknown>;
}

/** `jobNamePrefix` → `job_name_prefix`. */
export function toSnakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** `job_name_prefix` → `jobNamePrefix`. */
export function toCamelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
