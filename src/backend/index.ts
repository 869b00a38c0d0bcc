/**
 * `redun/backend`: the provenance database for tools and for code that reads what runs
 * recorded: opening a database (and other dialects' openers), schema versions and
 * migrations, the value store, provenance queries, tags, and export/import between
 * repositories. A workflow author needs none of it: `redun` is enough to run workflows.
 *
 * @packageDocumentation
 */
export {
  Backend,
  WRITE_THREAD_AFTER_ROWS,
  type BackendOptions,
  type CachedEvaluation,
  type CachedCall,
} from "./backend.ts";
export {
  ValueTooLargeError,
  ValueMissingError,
  VALUE_FORMAT,
  VALUE_REF_FORMAT,
  type StoredValue,
} from "./value-rows.ts";
export {
  openDatabase,
  registerDatabaseOpener,
  DatabaseConnectionError,
  type ConnectionOptions,
  type DatabaseHandle,
  type DatabaseOpener,
  type Dialect,
} from "./database.ts";
export { backendOptionsFromConfig } from "./from-config.ts";
export {
  ensureSchema,
  migrateTo,
  schemaVersion,
  versionHistory,
  SchemaVersionError,
} from "./migrate.ts";
export {
  COMPATIBLE_VERSIONS,
  LATEST_VERSION,
  MIGRATIONS,
  type Migration,
} from "./migrations/all-migrations.ts";
export {
  withRetry,
  isTransientError,
  DatabaseUnavailableError,
  type RetryPolicy,
} from "./retry.ts";
export { openValueStore, LocalValueStore, type ValueStore } from "./value-store.ts";
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
} from "./queries.ts";
export { fileLineage, type FileCall, type FileVersion } from "./file-lineage.ts";
export { addTags, getTags, findByTag, removeTags, updateTags, tagHash, type Tag } from "./tags.ts";
export { OpaqueValue } from "./opaque-value.ts";
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
} from "./transfer.ts";
export { explainJob, type JobExplanation, type ComparedCall, type ChangedArgument } from "./why.ts";
export {
  listJobs,
  taskHistory,
  type JobFilter,
  type TaskHistory,
  type TaskVersion,
} from "./history.ts";
