/**
 * redun for TypeScript: workflows as plain functions, evaluated lazily by a caching
 * scheduler that records provenance. This root is the workflow author's API: tasks and
 * their options, expressions and scheduler helpers, values, files and script tasks, the
 * `Scheduler`, configuration, and the errors a run can end with. Tools and plug-ins find the
 * rest behind subpaths: `redun/backend` (provenance queries, migrations, export/import),
 * `redun/executors` (writing an executor), `redun/files` (filesystems).
 *
 * @packageDocumentation
 */
import "./executors/builtin.ts";

export {
  task,
  namespace,
  getTask,
  findTask,
  allTasks,
  isTask,
  TaskExpression,
  type Task,
  type TaskFunction,
  type NamespacedTask,
} from "./api/task.ts";
export type {
  TaskOptions,
  CallTaskOptions,
  CallOptions,
  CacheScope,
  ExecutorTaskOptions,
} from "./api/options.ts";
export { TaskOptionError } from "./api/option-validation.ts";
export type { JobContext } from "./api/job-context.ts";
export type { Lazy, LazyArgs, Resolved } from "./api/types.ts";
export {
  Expression,
  SimpleExpression,
  ValueExpression,
  SchedulerExpression,
  isExpression,
} from "./expressions/expression.ts";
export {
  apply,
  cond,
  seq,
  catch_,
  throw_,
  map_,
  flatten,
  zip_,
  const_,
  delay,
  force,
  getContext,
  Delayed,
  type CondBranches,
  type ErrorClass,
  type ErrorClasses,
  type ErrorHandler,
} from "./expressions/helpers.ts";
export { registerType, type TypeHandler } from "./values/registry.ts";
export { registerErrorClass } from "./values/serialize.ts";
export { hashValue } from "./values/hash.ts";
export { RedunError, UnsupportedValueError } from "./values/errors.ts";
export {
  Scheduler,
  DryRunResult,
  type SchedulerOptions,
  type RunOptions,
} from "./scheduler/scheduler.ts";
export { subrun, SubrunError, type SubrunOptions } from "./scheduler/subrun.ts";
export { federatedTask, FederatedTaskError } from "./scheduler/federated.ts";
export { LimitError } from "./scheduler/limits.ts";
export { CancelledError, DryRunMiss } from "./scheduler/failure.ts";
export { InterruptedError } from "./scheduler/interrupt.ts";
export { TimeoutError, MemoryLimitError } from "./executors/local/limit-errors.ts";
export { currentSignal } from "./api/task-signal.ts";
export type { BackendOptions } from "./backend/backend.ts";
export type { ConnectionOptions } from "./backend/connection.ts";
export type { RetryPolicy } from "./backend/retry.ts";
export { DatabaseUnavailableError } from "./backend/retry.ts";
export { ValueTooLargeError, ValueMissingError } from "./backend/value-rows.ts";
export {
  File,
  Dir,
  StagingFile,
  StagingDir,
  glob,
  type FileHashMode,
  type FileOptions,
  type GlobOptions,
} from "./files/file.ts";
export { FileNotFoundError, ReadOnlyFileSystemError } from "./files/filesystem.ts";
export {
  script,
  scriptTask,
  ScriptError,
  runScript,
  STDOUT,
  type StdoutFile,
  type ScriptOptions,
  type ScriptOutputs,
  type ScriptResult,
  type RunScriptOptions,
} from "./files/script.ts";
export { sparkScript, SparkScriptError, type SparkScriptOptions } from "./files/spark-script.ts";
export {
  Config,
  loadConfig,
  type SchedulerConfig,
  type BackendConfig,
  type ExecutorConfig,
  type FederatedTaskConfig,
} from "./config/config.ts";
export { ConfigError } from "./config/config-error.ts";
// Type-only: the built-in executors' task options (merged into ExecutorTaskOptions) reach the
// package's types without their modules loading.
export type { DockerTaskOptions } from "./executors/docker/docker-task-options.ts";
export type { BatchTaskOptions } from "./executors/aws-batch/batch-task-options.ts";
export type { GlueTaskOptions } from "./executors/aws-glue/glue-task-options.ts";
export type { K8sTaskOptions } from "./executors/kubernetes/k8s-task-options.ts";
