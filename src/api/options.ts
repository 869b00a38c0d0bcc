/**
 * Task options: what a task definition, a call, or an ancestor can set.
 */

/** Where a call's cached results may come from. */
export type CacheScope = "none" | "cse" | "backend";

/**
 * Options of executors that a task may override for itself (camelCase here, snake_case in
 * `redun.ini`). Each executor type adds its own by declaration merging, in its folder's
 * `*-task-options.ts` (e.g. `src/executors/aws-batch/batch-task-options.ts` adds `queue`, `memory`,
 * …), so editors complete them wherever that executor's types are part of the program (the
 * package's root types include the built-in executors'). A user-defined executor type does
 * the same:
 *
 * @example
 * declare module "redun" {
 *   interface ExecutorTaskOptions {
 *     zone?: string;
 *   }
 * }
 */
export interface ExecutorTaskOptions {
  /** Options of executors registered by users, by their snake_case names. */
  executorOptions?: Record<string, unknown>;
}

/** The options the engine itself reads (see {@link TaskOptions}). */
export interface EngineTaskOptions {
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
  /**
   * Tags recorded on every job of the task (`redun log --tag`, `redun tag list JOB`): an
   * object `{ step: "align" }` or, as in Python redun, a list of pairs `[["step", "align"]]`.
   */
  tags?: Record<string, unknown> | [string, unknown][];
  /**
   * Seconds a job may run before it is stopped and fails with a `TimeoutError` (retried per
   * `retries`); 0 is no limit. On a local executor: in thread mode the worker is terminated
   * (and replaced), in process mode killed, in inline mode the job's `currentSignal()` is
   * aborted and the job fails at once. AWS Batch reads it as its job timeout (seconds), AWS
   * Glue in minutes. Default: the executor's `timeout` option, else none.
   */
  timeout?: number;
  /**
   * The JavaScript heap limit, in GiB, of the thread or process worker that runs the task
   * on a local executor; past it the job fails with a `MemoryLimitError` and the worker is
   * replaced. 0 is no limit. Default: the executor's `max_memory` option, else none.
   */
  maxMemory?: number;
}

/** Options of a task: the engine's and those of the executor types. See SPEC §2.1. */
export interface TaskOptions extends EngineTaskOptions, ExecutorTaskOptions {}

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
