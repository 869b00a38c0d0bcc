/**
 * Option declarations shared by the schemas of the remote executor types (docker, aws_batch,
 * aws_glue, k8s): code packaging, resources, batch-style submission and array jobs.
 */
import type { OptionSchema } from "../../config/option-schema.ts";

/** Code packaging, shared by the remote executors. */
export const CODE_PACKAGE = {
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

export const VCPUS = {
  type: "int",
  default: 1,
  min: 0,
  description: "Virtual CPUs per task",
} satisfies OptionSchema[string];
export const GPUS = {
  type: "int",
  default: 0,
  min: 0,
  description: "GPUs per task",
} satisfies OptionSchema[string];
export const MEMORY = {
  type: "float",
  default: 4,
  min: 0,
  description: "Memory per task, in Gb",
} satisfies OptionSchema[string];

/** Batch-style job submission, shared by aws_batch and k8s. */
export const RETRIES = {
  type: "int",
  default: 1,
  min: 0,
  description: "Attempts per job",
} satisfies OptionSchema[string];
export const JOB_NAME_PREFIX = {
  type: "string",
  default: "batch-job",
  description: "Job name prefix",
} satisfies OptionSchema[string];
export const JOB_MONITOR_INTERVAL_5S = {
  type: "float",
  default: 5.0,
  min: 0,
  description: "Seconds between job status queries",
} satisfies OptionSchema[string];

/** Array jobs: equivalent pending jobs submitted together. */
export const ARRAY_JOBS = {
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
export const SCHEDULING_POLICY = {
  share_id: { type: "string", default: undefined, description: "Fair share identifier" },
  scheduling_priority_override: {
    type: "int",
    default: undefined,
    description: "Scheduling priority for job definitions that set none",
  },
} satisfies OptionSchema;
