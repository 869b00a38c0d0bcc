/**
 * The options each built-in executor type declares, with the defaults of the
 * configuration document. Executors parse their `[executors.NAME]` section against these.
 */
import type { OptionSchema } from "./options.ts";

// The document's default for code_includes is `**/*.py` (Python redun); a TypeScript
// workflow's code is its .ts/.js sources and JSON files.
const CODE_PACKAGE: OptionSchema = {
  code_package: { type: "bool", default: true },
  code_includes: {
    type: "list",
    default: ["**/*.ts", "**/*.mts", "**/*.js", "**/*.mjs", "**/*.json"],
  },
  code_excludes: { type: "list", default: undefined },
};

const RESOURCES: OptionSchema = {
  vcpus: { type: "int", default: 1, min: 0 },
  gpus: { type: "int", default: 0, min: 0 },
  memory: { type: "float", default: 4, min: 0 },
};

const ARRAY_JOBS: OptionSchema = {
  min_array_size: { type: "int", default: 5, min: 0 },
  max_array_size: { type: "int", default: 1000, min: 1 },
  job_stale_time: { type: "float", default: 3.0, min: 0 },
};

/** Declared options of the built-in executor types. */
export const EXECUTOR_SCHEMAS: Record<string, OptionSchema> = {
  local: {
    mode: { type: "string", default: "thread", choices: ["thread", "process", "inline"] },
    max_workers: { type: "int", default: 20, min: 1 },
    start_method: { type: "string", default: "fork", choices: ["fork", "spawn", "forkserver"] },
  },
  alias: {
    target: { type: "string", required: true },
  },
  docker: {
    image: { type: "string", required: true },
    scratch: { type: "string", required: true },
    ...RESOURCES,
    interactive: { type: "bool", default: false },
    ...CODE_PACKAGE,
  },
  aws_batch: {
    image: { type: "string", required: true },
    queue: { type: "string", required: true },
    s3_scratch: { type: "string", required: true },
    aws_region: { type: "string", default: undefined },
    role: { type: "string", default: undefined },
    ...RESOURCES,
    retries: { type: "int", default: 1, min: 0 },
    job_name_prefix: { type: "string", default: "batch-job" },
    ...CODE_PACKAGE,
    debug: { type: "bool", default: false },
    job_monitor_interval: { type: "float", default: 5.0, min: 0 },
    ...ARRAY_JOBS,
    timeout: { type: "int", default: undefined, min: 1 },
    privileged: { type: "bool", default: false },
    autocreate_job_def: { type: "bool", default: true, aliases: ["autocreate_job"] },
    job_def_name: { type: "string", default: undefined },
    batch_tags: { type: "json", default: undefined },
    default_batch_tags: { type: "bool", default: true },
    num_nodes: { type: "int", default: undefined, min: 1 },
    share_id: { type: "string", default: undefined },
    scheduling_priority_override: { type: "int", default: undefined },
  },
  aws_glue: {
    s3_scratch: { type: "string", required: true },
    workers: { type: "int", default: 10, min: 1 },
    worker_type: { type: "string", default: "G.1X", choices: ["Standard", "G.1X", "G.2X"] },
    aws_region: { type: "string", default: undefined },
    role: { type: "string", default: undefined },
    glue_job_prefix: { type: "string", default: "REDUN" },
    spark_history_dir: { type: "string", default: undefined },
    job_monitor_interval: { type: "float", default: 10.0, min: 0 },
    job_retry_interval: { type: "float", default: 60.0, min: 0 },
    timeout: { type: "int", default: 2880, min: 1 },
    ...CODE_PACKAGE,
  },
  k8s: {
    image: { type: "string", required: true },
    scratch: { type: "string", required: true },
    namespace: { type: "string", default: "default" },
    secret_name: { type: "string", default: undefined },
    import_aws_secrets: { type: "bool", default: true },
    secret_env_vars: { type: "list", default: [] },
    vcpus: RESOURCES.vcpus!,
    memory: RESOURCES.memory!,
    retries: { type: "int", default: 1, min: 0 },
    job_name_prefix: { type: "string", default: "batch-job" },
    service_account_name: { type: "string", default: "default" },
    annotations: { type: "json", default: undefined },
    k8s_labels: { type: "json", default: undefined },
    default_k8s_labels: { type: "bool", default: true },
    ...CODE_PACKAGE,
    job_monitor_interval: { type: "float", default: 5.0, min: 0 },
    ...ARRAY_JOBS,
    share_id: { type: "string", default: undefined },
    scheduling_priority_override: { type: "int", default: undefined },
  },
};

/** The option schema of an executor type (built in or registered by a user). */
export function executorSchema(type: string): OptionSchema | undefined {
  return EXECUTOR_SCHEMAS[type];
}

/** Declares the options of a user-defined executor type. */
export function registerExecutorSchema(type: string, schema: OptionSchema): void {
  EXECUTOR_SCHEMAS[type] = schema;
}
