/**
 * The task options the AWS Batch executor reads (each overrides an executor option for one
 * task, see ./options.ts), merged into the engine's `ExecutorTaskOptions` so editors complete
 * them. Their checks are declared with the type's loader in src/executors/builtin.ts.
 */

/** Task options of the AWS Batch executor. */
export interface BatchTaskOptions {
  /** Container image. */
  image?: string;
  /** AWS Batch queue. */
  queue?: string;
  /** AWS region of the Batch service. */
  awsRegion?: string;
  /** IAM role ARN; `null` or `"None"` disables it. */
  role?: string | null;
  vcpus?: number;
  gpus?: number;
  /** Memory in GiB. */
  memory?: number;
  /** AWS Batch attempts per job (the executor's `retries`); `retries` is the scheduler's. */
  batchRetries?: number;
  /** Seconds (AWS Batch) or minutes (AWS Glue) before the job is killed. */
  timeout?: number;
  privileged?: boolean;
  jobNamePrefix?: string;
  batchTags?: Record<string, string>;
  defaultBatchTags?: boolean;
  /** Nodes of a multi-node job. */
  numNodes?: number;
  /** The job definition to use, and whether to create job definitions as needed. */
  jobDefName?: string;
  autocreateJobDef?: boolean;
  /** Fair share identifier and scheduling priority (queues with scheduling policies). */
  shareId?: string;
  schedulingPriorityOverride?: number;
}

declare module "../../api/options.js" {
  interface ExecutorTaskOptions extends BatchTaskOptions {}
}
