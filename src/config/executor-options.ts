/**
 * The options each built-in executor type declares, with the defaults of the
 * configuration document. Executors parse their `[executors.NAME]` section against these;
 * user-defined executor types declare theirs with {@link registerExecutorSchema}.
 */
import type { OptionSchema, OptionValues } from "./options.ts";

/** Code packaging, shared by the remote executors. */
const CODE_PACKAGE = {
  code_package: { type: "bool", default: true, description: "Package the workflow's code" },
  // The document's default is `**/*.py` (Python redun); a TypeScript workflow's code is its
  // .ts/.mts/.js/.mjs sources and JSON files (package.json, tsconfig.json, data).
  code_includes: {
    type: "list",
    default: ["**/*.ts", "**/*.mts", "**/*.js", "**/*.mjs", "**/*.json"],
    description: "Glob patterns of files to package (shell-like quoting)",
  },
  code_excludes: {
    type: "list",
    default: undefined,
    description: "Glob patterns of files not to package (shell-like quoting)",
  },
} satisfies OptionSchema;

const VCPUS = {
  type: "int",
  default: 1,
  min: 0,
  description: "Virtual CPUs per task",
} satisfies OptionSchema[string];
const GPUS = {
  type: "int",
  default: 0,
  min: 0,
  description: "GPUs per task",
} satisfies OptionSchema[string];
const MEMORY = {
  type: "float",
  default: 4,
  min: 0,
  description: "Memory per task, in Gb",
} satisfies OptionSchema[string];

/** Batch-style job submission, shared by aws_batch and k8s. */
const RETRIES = {
  type: "int",
  default: 1,
  min: 0,
  description: "Attempts per job",
} satisfies OptionSchema[string];
const JOB_NAME_PREFIX = {
  type: "string",
  default: "batch-job",
  description: "Job name prefix",
} satisfies OptionSchema[string];
const JOB_MONITOR_INTERVAL_5S = {
  type: "float",
  default: 5.0,
  min: 0,
  description: "Seconds between job status queries",
} satisfies OptionSchema[string];

/** Array jobs: equivalent pending jobs submitted together. */
const ARRAY_JOBS = {
  min_array_size: {
    type: "int",
    default: 5,
    min: 0,
    description: "Fewest equivalent jobs submitted as an array job (0 disables arrays)",
  },
  max_array_size: {
    type: "int",
    default: 1000,
    min: 1,
    check: (value, values) =>
      (values.min_array_size as number) > (value as number)
        ? `must be at least min_array_size (${values.min_array_size as number})`
        : undefined,
    description: "Most equivalent jobs in one array job",
  },
  job_stale_time: {
    type: "float",
    default: 3.0,
    min: 0,
    description: "Seconds a job waits to be bundled into an array job",
  },
} satisfies OptionSchema;

/**
 * Queues with scheduling policies. The document lists these under the k8s executor, but
 * they describe AWS Batch (`shareIdentifier`, `schedulingPriorityOverride`), so both declare them.
 */
const SCHEDULING_POLICY = {
  share_id: { type: "string", default: undefined, description: "Fair share identifier" },
  scheduling_priority_override: {
    type: "int",
    default: undefined,
    description: "Scheduling priority for job definitions that set none",
  },
} satisfies OptionSchema;

/** `type = local`: tasks on this machine. */
export const LOCAL_SCHEMA = {
  mode: {
    type: "string",
    default: "thread",
    // `inline` is ours: runs tasks on the scheduler's own event loop.
    choices: ["thread", "process", "inline"],
    description: "thread, process, or inline (the scheduler's own event loop)",
  },
  max_workers: { type: "int", default: 20, min: 1, description: "Size of the worker pool" },
  start_method: {
    type: "string",
    default: "fork",
    choices: ["fork", "spawn", "forkserver"],
    description: "Accepted for compatibility; Node starts every worker afresh",
  },
} satisfies OptionSchema;

/** `type = alias`: another executor, resolved lazily. */
export const ALIAS_SCHEMA = {
  target: { type: "string", required: true, description: "The executor to defer to" },
} satisfies OptionSchema;

/** `type = docker`: each job in a local container. */
export const DOCKER_SCHEMA = {
  image: { type: "string", required: true, description: "Default Docker image" },
  scratch: {
    type: "string",
    required: true,
    isPath: true, // relative to the configuration directory, per the document
    description: "Scratch directory mounted into containers",
  },
  vcpus: VCPUS,
  gpus: GPUS,
  memory: MEMORY,
  interactive: {
    type: "bool",
    default: false,
    description: "Run containers interactively (output to the terminal)",
  },
  // Ours: `docker run --network` (e.g. `host` to reach services on this machine).
  network: {
    type: "string",
    default: undefined,
    description: "Docker network of the containers (docker run --network)",
  },
  // Not in the document's docker section: docker jobs use the same remote protocol and
  // code packaging as the other remote executors.
  ...CODE_PACKAGE,
} satisfies OptionSchema;

/** `type = aws_batch`: jobs on AWS Batch. */
export const AWS_BATCH_SCHEMA = {
  image: { type: "string", required: true, description: "Default Docker image" },
  queue: { type: "string", required: true, description: "Default AWS Batch queue" },
  s3_scratch: { type: "string", required: true, description: "S3 scratch space" },
  aws_region: { type: "string", default: undefined, description: "AWS region" },
  role: {
    type: "string",
    // Unset: the account's ecsTaskExecutionRole; `None` (null): no job role at all.
    default: undefined,
    description: "Job role ARN (default the account's ecsTaskExecutionRole; None for none)",
  },
  vcpus: VCPUS,
  gpus: GPUS,
  memory: MEMORY,
  retries: RETRIES,
  job_name_prefix: JOB_NAME_PREFIX,
  ...CODE_PACKAGE,
  debug: {
    type: "bool",
    default: false,
    description: "Run the job's container locally with docker",
  },
  job_monitor_interval: JOB_MONITOR_INTERVAL_5S,
  ...ARRAY_JOBS,
  timeout: {
    type: "int",
    default: undefined,
    min: 1,
    description: "Seconds after which AWS Batch terminates a job",
  },
  privileged: { type: "bool", default: false, description: "Run jobs in privileged mode" },
  autocreate_job_def: {
    type: "bool",
    default: true,
    aliases: ["autocreate_job"],
    check: (value, values) =>
      value === false && !values.job_def_name
        ? "when false, job_def_name must name the job definition to use"
        : undefined,
    description: "Create job definitions as needed (else job_def_name must exist)",
  },
  job_def_name: { type: "string", default: undefined, description: "Job definition to use" },
  batch_tags: {
    type: "json",
    default: undefined,
    check: (value) =>
      Object.values(value as object).every((v) => typeof v === "string")
        ? undefined
        : "expected a JSON object of string values",
    description: "Tags for every job (a JSON object of strings)",
  },
  default_batch_tags: {
    type: "bool",
    default: true,
    description: "Add redun's tags (job id, task name, execution id, …)",
  },
  num_nodes: {
    type: "int",
    default: undefined,
    min: 1,
    description: "Run multi-node jobs with this many nodes",
  },
  ...SCHEDULING_POLICY,
} satisfies OptionSchema;

/** `type = aws_glue`: Spark jobs on AWS Glue. */
export const AWS_GLUE_SCHEMA = {
  s3_scratch: { type: "string", required: true, description: "S3 scratch space" },
  // The document gives no default for workers and worker_type; these are Python redun's.
  workers: { type: "int", default: 10, min: 1, description: "Workers (DPUs) per job" },
  worker_type: {
    type: "string",
    default: "G.1X",
    choices: ["Standard", "G.1X", "G.2X"],
    description: "Standard, G.1X or G.2X",
  },
  aws_region: { type: "string", default: undefined, description: "AWS region" },
  role: {
    type: "string",
    default: undefined, // unset: the account's AWSGlueServiceRole
    description: "Job role ARN (default the account's AWSGlueServiceRole)",
  },
  glue_job_prefix: { type: "string", default: "REDUN", description: "Job definition prefix" },
  spark_history_dir: {
    type: "string",
    defaultFrom: (values) => `${String(values.s3_scratch).replace(/\/+$/, "")}/glue/spark_history`,
    description: "S3 path for Spark history (default S3_SCRATCH/glue/spark_history)",
  },
  job_monitor_interval: {
    type: "float",
    default: 10.0,
    min: 0,
    description: "Seconds between job status queries",
  },
  job_retry_interval: {
    type: "float",
    default: 60.0,
    min: 0,
    description: "Seconds between attempts to start jobs that lacked resources",
  },
  timeout: { type: "int", default: 2880, min: 1, description: "Minutes before a job is killed" },
  ...CODE_PACKAGE,
} satisfies OptionSchema;

/** `type = k8s`: Kubernetes Jobs. */
export const K8S_SCHEMA = {
  image: { type: "string", required: true, description: "Default Docker image" },
  scratch: { type: "string", required: true, description: "Scratch space (s3://, gs://, …)" },
  namespace: { type: "string", default: "default", description: "Kubernetes namespace" },
  secret_name: { type: "string", default: undefined, description: "Secret for AWS credentials" },
  import_aws_secrets: {
    type: "bool",
    default: true,
    description: "Pass the local AWS credentials through the secret",
  },
  secret_env_vars: {
    type: "list",
    default: [],
    description: "Environment variables passed through the secret",
  },
  vcpus: VCPUS,
  memory: MEMORY,
  retries: RETRIES,
  job_name_prefix: JOB_NAME_PREFIX,
  service_account_name: {
    type: "string",
    default: "default",
    description: "Kubernetes service account",
  },
  annotations: { type: "json", default: undefined, description: "Annotations for every job" },
  k8s_labels: { type: "json", default: undefined, description: "Labels for every job" },
  default_k8s_labels: {
    type: "bool",
    default: true,
    description: "Add redun's labels (job id, task name, …)",
  },
  ...CODE_PACKAGE,
  job_monitor_interval: JOB_MONITOR_INTERVAL_5S,
  ...ARRAY_JOBS,
  ...SCHEDULING_POLICY,
} satisfies OptionSchema;

/** Parsed options of the built-in executor types. */
export type LocalOptions = OptionValues<typeof LOCAL_SCHEMA>;
export type AliasOptions = OptionValues<typeof ALIAS_SCHEMA>;
export type DockerOptions = OptionValues<typeof DOCKER_SCHEMA>;
export type AwsBatchOptions = OptionValues<typeof AWS_BATCH_SCHEMA>;
export type AwsGlueOptions = OptionValues<typeof AWS_GLUE_SCHEMA>;
export type K8sOptions = OptionValues<typeof K8S_SCHEMA>;

const BUILTIN: Readonly<Record<string, OptionSchema>> = {
  local: LOCAL_SCHEMA,
  alias: ALIAS_SCHEMA,
  docker: DOCKER_SCHEMA,
  aws_batch: AWS_BATCH_SCHEMA,
  aws_glue: AWS_GLUE_SCHEMA,
  k8s: K8S_SCHEMA,
};

/** Declared options by executor type: the built-in types and registered ones. */
export const EXECUTOR_SCHEMAS: Record<string, OptionSchema> = { ...BUILTIN };

/** The option schema of an executor type (built in or registered), if declared. */
export function executorSchema(type: string): OptionSchema | undefined {
  return Object.hasOwn(EXECUTOR_SCHEMAS, type) ? EXECUTOR_SCHEMAS[type] : undefined;
}

/**
 * Declares the options of a user-defined executor type, so its `[executors.NAME]`
 * sections are checked (and defaults filled) like the built-in ones. Registering a type
 * again replaces its schema.
 * @throws Error when `type` is a built-in executor type.
 */
export function registerExecutorSchema(type: string, schema: OptionSchema): void {
  if (Object.hasOwn(BUILTIN, type)) {
    throw new Error(`executor type "${type}" is built in; its options cannot be redeclared`);
  }
  EXECUTOR_SCHEMAS[type] = schema;
}
