/**
 * The task options the AWS Glue executor reads, merged into the engine's
 * `ExecutorTaskOptions` so editors complete them. Their checks are declared with the type's
 * loader in src/executors/builtin.ts.
 */

/** Task options of the AWS Glue executor. */
export interface GlueTaskOptions {
  /** Workers (DPUs) per job. */
  workers?: number;
  /** `Standard`, `G.1X` or `G.2X`. */
  workerType?: string;
  /** IAM role ARN; `null` or `"None"` disables it. */
  role?: string | null;
  /** Seconds (AWS Batch) or minutes (AWS Glue) before the job is killed. */
  timeout?: number;
}

declare module "../../api/options.js" {
  interface ExecutorTaskOptions extends GlueTaskOptions {}
}
