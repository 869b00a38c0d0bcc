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
export { TaskOptionError } from "./api/option-validation.ts";
export type { JobContext } from "./api/job-context.ts";
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
export { UnsupportedValueError } from "./values/errors.ts";
export {
  Scheduler,
  DryRunResult,
  type SchedulerOptions,
  type RunOptions,
} from "./scheduler/scheduler.ts";
export { LimitError } from "./scheduler/limits.ts";
export { Backend, type BackendOptions } from "./backend/backend.ts";
export {
  ValueTooLargeError,
  ValueMissingError,
  VALUE_FORMAT,
  VALUE_REF_FORMAT,
  type StoredValue,
} from "./backend/value-rows.ts";
export {
  openDatabase,
  registerDatabaseOpener,
  DatabaseConnectionError,
  type ConnectionOptions,
  type DatabaseHandle,
  type DatabaseOpener,
  type Dialect,
} from "./backend/database.ts";
export { backendOptionsFromConfig } from "./backend/from-config.ts";
export {
  ensureSchema,
  migrateTo,
  schemaVersion,
  versionHistory,
  SchemaVersionError,
} from "./backend/migrate.ts";
export {
  COMPATIBLE_VERSIONS,
  LATEST_VERSION,
  MIGRATIONS,
  type Migration,
} from "./backend/migrations/index.ts";
export {
  withRetry,
  isTransientError,
  DatabaseUnavailableError,
  type RetryPolicy,
} from "./backend/retry.ts";
export { openValueStore, LocalValueStore, type ValueStore } from "./backend/value-store.ts";
export {
  listExecutions,
  getExecution,
  executionJobs,
  getJob,
  jobTree,
  getCall,
  getValue,
  getValues,
  valueProvenance,
  argumentUpstream,
  resolveId,
  missReason,
  IdLookupError,
  type ExecutionFilter,
  type MissReason,
  type ProvenanceSource,
  type ExecutionInfo,
  type JobInfo,
  type JobNode,
  type ValueInfo,
  type ArgumentInfo,
  type CallInfo,
  type ValueProvenance,
  type EntityType,
} from "./backend/queries.ts";
export { addTags, getTags, findByTag, removeTags, tagHash, type Tag } from "./backend/tags.ts";
export { OpaqueValue } from "./backend/opaque-value.ts";
export {
  exportRows,
  writeExport,
  readExport,
  importRows,
  transfer,
  ImportFormatError,
  type ExportHeader,
  type ExportRow,
  type ExportOptions,
  type ImportResult,
} from "./backend/transfer.ts";
export {
  registerExecutorType,
  type Executor,
  type ExecutorFactory,
  type ExecutorContext,
  type JobSpec,
} from "./executors/executor.ts";
export { LocalExecutor, type LocalExecutorOptions } from "./executors/local/local.ts";
export { DockerExecutor, type DockerExecutorOptions } from "./executors/docker/docker.ts";
export { AwsBatchExecutor } from "./executors/aws-batch/aws-batch.ts";
export {
  prepareRemoteJob,
  collectRemoteResult,
  RemoteJobError,
  type RemoteJobSettings,
  type PreparedRemoteJob,
} from "./executors/remote/job.ts";
export { buildCodePackage, type CodePackage } from "./executors/remote/code-package.ts";
export type { RemoteJobInput } from "./executors/remote/scratch.ts";
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
export {
  registerFileSystem,
  getFileSystem,
  FileNotFoundError,
  ReadOnlyFileSystemError,
  type FileSystem,
  type FileStat,
  type ListOptions,
} from "./files/filesystem.ts";
export { LocalFileSystem } from "./files/local.ts";
export { S3FileSystem, configureS3, type S3Options } from "./files/s3.ts";
export { HttpFileSystem } from "./files/http.ts";
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
