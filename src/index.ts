/**
 * redun for TypeScript: workflows as plain functions, evaluated lazily by a caching
 * scheduler that records provenance.
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
export type { Lazy, LazyArgs, Resolved } from "./api/types.ts";
export {
  Expression,
  TaskExpression,
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
  Delayed,
  type ErrorClass,
} from "./expressions/helpers.ts";
export { registerType, type TypeHandler } from "./values/registry.ts";
export { registerErrorClass } from "./values/serialize.ts";
export { hashValue } from "./values/hash.ts";
export { UnsupportedValueError } from "./values/errors.ts";
export {
  Scheduler,
  DryRunResult,
  type SchedulerOptions,
  type RunOptions,
} from "./scheduler/scheduler.ts";
export { LimitError } from "./scheduler/limits.ts";
export { Backend, ValueTooLargeError, type BackendOptions } from "./backend/backend.ts";
export {
  registerExecutorType,
  type Executor,
  type ExecutorFactory,
  type ExecutorContext,
  type JobSpec,
} from "./executors/executor.ts";
export { LocalExecutor, type LocalExecutorOptions } from "./executors/local/local.ts";
export { File, Dir, type FileHashMode } from "./files/file.ts";
export {
  Config,
  loadConfig,
  type SchedulerConfig,
  type BackendConfig,
  type ExecutorConfig,
  type FederatedTaskConfig,
} from "./config/config.ts";
export { ConfigError } from "./config/errors.ts";
export { registerExecutorSchema } from "./config/executor-options.ts";
export type { OptionSchema, OptionSpec, OptionType } from "./config/options.ts";
