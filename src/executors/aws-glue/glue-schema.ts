/**
 * The options of `[executors.NAME]` sections of `type = aws_glue`, with their defaults: the
 * document's, plus `node_runtime` and `glue_version` (our additions: Glue runs Python, so a
 * TypeScript task needs a Node runtime, which must suit the Glue version's Linux).
 */
import type { OptionSchema, OptionValues } from "../../config/option-schema.ts";
import { CODE_PACKAGE } from "../remote/schema-parts.ts";

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
  node_runtime: {
    type: "string",
    default: undefined, // unset: the scheduler's own Node binary (on Linux x64 only)
    description: "Node runtime for Glue workers: an s3:// or local .tar.gz/.tar.xz with bin/node",
  },
  glue_version: {
    type: "string",
    default: "5.0", // Amazon Linux 2023 (glibc 2.34): official Node builds run there
    description: "Glue version of the job definitions (5.0: Amazon Linux 2023)",
  },
  ...CODE_PACKAGE,
} satisfies OptionSchema;

/** Parsed options of an AWS Glue executor. */
export type AwsGlueOptions = OptionValues<typeof AWS_GLUE_SCHEMA>;
