/** The options of `[executors.NAME]` sections of `type = aws_batch`, with their defaults. */
import type { OptionSchema, OptionValues } from "../../config/option-schema.ts";
import {
  CODE_PACKAGE,
  VCPUS,
  GPUS,
  MEMORY,
  RETRIES,
  JOB_NAME_PREFIX,
  JOB_MONITOR_INTERVAL_5S,
  ARRAY_JOBS,
  SCHEDULING_POLICY,
} from "../remote/schema-parts.ts";

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

/** Parsed options of an AWS Batch executor. */
export type AwsBatchOptions = OptionValues<typeof AWS_BATCH_SCHEMA>;
