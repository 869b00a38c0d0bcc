/**
 * The executor types that ship with redun, registered as loaders: a type's module (and its
 * SDK or tools) loads only when a configuration names the type, and the `local` type when the
 * scheduler first runs. What must be known before that is declared here: the task options each
 * type reads, as data checked against the type's `*-task-options.ts`, so `task({...})` checks
 * them without loading any executor.
 */
import type { TaskOptionKind } from "../api/option-validation.ts";
import type { BatchTaskOptions } from "./aws-batch/batch-task-options.ts";
import type { GlueTaskOptions } from "./aws-glue/glue-task-options.ts";
import type { DockerTaskOptions } from "./docker/docker-task-options.ts";
import { registerExecutorLoader } from "./executor.ts";
import type { K8sTaskOptions } from "./kubernetes/k8s-task-options.ts";

/** The kind of each of a type's task options (every option of its interface, no other). */
type Kinds<T> = { readonly [K in keyof Required<T>]: TaskOptionKind };

const DOCKER_TASK_OPTIONS = {
  image: "string",
  vcpus: "number",
  gpus: "count",
  memory: "number",
  interactive: "boolean",
} as const satisfies Kinds<DockerTaskOptions>;

const BATCH_TASK_OPTIONS = {
  image: "string",
  queue: "string",
  awsRegion: "string",
  role: "stringOrNull",
  vcpus: "number",
  gpus: "count",
  memory: "number",
  batchRetries: "count",
  timeout: "number",
  privileged: "boolean",
  jobNamePrefix: "string",
  batchTags: "stringRecord",
  defaultBatchTags: "boolean",
  numNodes: "count",
  jobDefName: "string",
  autocreateJobDef: "boolean",
  shareId: "string",
  schedulingPriorityOverride: "count",
} as const satisfies Kinds<BatchTaskOptions>;

const GLUE_TASK_OPTIONS = {
  workers: "count",
  workerType: "string",
  role: "stringOrNull",
  timeout: "number",
} as const satisfies Kinds<GlueTaskOptions>;

const K8S_TASK_OPTIONS = {
  image: "string",
  vcpus: "number",
  memory: "number",
  k8sNamespace: "string",
  serviceAccountName: "string",
  annotations: "stringRecord",
  k8sLabels: "stringRecord",
  k8sRetries: "count",
  timeout: "number",
} as const satisfies Kinds<K8sTaskOptions>;

registerExecutorLoader("local", async () => {
  const [{ createLocalExecutor }, { LOCAL_SCHEMA }] = await Promise.all([
    import("./local/local.ts"),
    import("./local/local-schema.ts"),
  ]);
  return { factory: createLocalExecutor, schema: LOCAL_SCHEMA };
});

registerExecutorLoader("alias", async () => {
  const { createAliasExecutor, ALIAS_SCHEMA } = await import("./alias.ts");
  return { factory: createAliasExecutor, schema: ALIAS_SCHEMA };
});

registerExecutorLoader(
  "docker",
  async () => {
    const [{ createDockerExecutor }, { DOCKER_SCHEMA }] = await Promise.all([
      import("./docker/docker.ts"),
      import("./docker/docker-schema.ts"),
    ]);
    return { factory: createDockerExecutor, schema: DOCKER_SCHEMA };
  },
  DOCKER_TASK_OPTIONS,
);

registerExecutorLoader(
  "aws_batch",
  async () => {
    const [{ createAwsBatchExecutor }, { AWS_BATCH_SCHEMA }] = await Promise.all([
      import("./aws-batch/aws-batch.ts"),
      import("./aws-batch/batch-schema.ts"),
    ]);
    return { factory: createAwsBatchExecutor, schema: AWS_BATCH_SCHEMA };
  },
  BATCH_TASK_OPTIONS,
);

registerExecutorLoader(
  "aws_glue",
  async () => {
    const [{ createAwsGlueExecutor }, { AWS_GLUE_SCHEMA }] = await Promise.all([
      import("./aws-glue/aws-glue.ts"),
      import("./aws-glue/glue-schema.ts"),
    ]);
    return { factory: createAwsGlueExecutor, schema: AWS_GLUE_SCHEMA };
  },
  GLUE_TASK_OPTIONS,
);

registerExecutorLoader(
  "k8s",
  async () => {
    const [{ createK8sExecutor }, { K8S_SCHEMA }] = await Promise.all([
      import("./kubernetes/k8s-executor.ts"),
      import("./kubernetes/k8s-schema.ts"),
    ]);
    return { factory: createK8sExecutor, schema: K8S_SCHEMA };
  },
  K8S_TASK_OPTIONS,
);
