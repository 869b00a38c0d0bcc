/**
 * The options of `[executors.NAME]` sections of `type = k8s`, with their defaults.
 *
 * The Kubernetes executor does not exist yet: these options are checked so that configurations
 * written for Python redun load, and using such an executor is one clear error ("executor
 * type k8s is not available yet"). The executor will live in this folder.
 */
import type { OptionSchema, OptionValues } from "../../config/option-schema.ts";
import {
  CODE_PACKAGE,
  VCPUS,
  MEMORY,
  RETRIES,
  JOB_NAME_PREFIX,
  JOB_MONITOR_INTERVAL_5S,
  ARRAY_JOBS,
  SCHEDULING_POLICY,
} from "../remote/schema-parts.ts";

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

/** Parsed options of a Kubernetes executor. */
export type K8sOptions = OptionValues<typeof K8S_SCHEMA>;
