/**
 * The options of `[executors.NAME]` sections of `type = k8s` (the configuration document's
 * "Kubernetes (k8s) executor" section, with its defaults), plus a few of our own:
 * `kubeconfig`, `context`, `image_pull_policy` and `host_network`.
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
  scratch: {
    type: "string",
    required: true,
    description: "Scratch space: s3://… or a directory shared with the nodes (hostPath)",
  },
  namespace: { type: "string", default: "default", description: "Kubernetes namespace" },
  secret_name: {
    type: "string",
    default: undefined,
    description: "Secret holding AWS credentials and secret_env_vars (default redun-secret)",
  },
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
  retries: { ...RETRIES, description: "Retries of a failed pod (the Job's backoffLimit)" },
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
  // Our additions.
  kubeconfig: {
    type: "string",
    default: undefined,
    description: "Kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)",
  },
  context: { type: "string", default: undefined, description: "Kubeconfig context to use" },
  image_pull_policy: {
    type: "string",
    default: undefined,
    choices: ["Always", "IfNotPresent", "Never"],
    description: "Pods' imagePullPolicy (default: Kubernetes' own)",
  },
  host_network: {
    type: "bool",
    default: false,
    description: "Run pods in the node's network namespace (hostNetwork)",
  },
} satisfies OptionSchema;

/** Parsed options of a Kubernetes executor. */
export type K8sOptions = OptionValues<typeof K8S_SCHEMA>;
