/**
 * The option schemas of every built-in executor type at once, declared to the configuration:
 * for tools and tests that read `[executors.NAME]` sections without running anything. redun
 * itself does not import this module; it loads a type's schema with the type, when a
 * configuration names it (src/executors/builtin.ts).
 */
import type { OptionSchema } from "../config/option-schema.ts";
import { defineExecutorSchema } from "../config/executor-options.ts";
import { ALIAS_SCHEMA } from "./alias.ts";
import { AWS_BATCH_SCHEMA } from "./aws-batch/batch-schema.ts";
import { AWS_GLUE_SCHEMA } from "./aws-glue/glue-schema.ts";
import { DOCKER_SCHEMA } from "./docker/docker-schema.ts";
import { K8S_SCHEMA } from "./kubernetes/k8s-schema.ts";
import { LOCAL_SCHEMA } from "./local/local-schema.ts";

export {
  EXECUTOR_SCHEMAS,
  executorSchema,
  registerExecutorSchema,
} from "../config/executor-options.ts";
export { ALIAS_SCHEMA, AWS_BATCH_SCHEMA, AWS_GLUE_SCHEMA, DOCKER_SCHEMA, K8S_SCHEMA, LOCAL_SCHEMA };
export type { LocalOptions } from "./local/local-schema.ts";
export type { DockerOptions } from "./docker/docker-schema.ts";
export type { AwsBatchOptions } from "./aws-batch/batch-schema.ts";
export type { AwsGlueOptions } from "./aws-glue/glue-schema.ts";
export type { K8sOptions } from "./kubernetes/k8s-schema.ts";

/** The schemas of the built-in executor types, by type. */
export const BUILTIN_EXECUTOR_SCHEMAS: Readonly<Record<string, OptionSchema>> = {
  local: LOCAL_SCHEMA,
  alias: ALIAS_SCHEMA,
  docker: DOCKER_SCHEMA,
  aws_batch: AWS_BATCH_SCHEMA,
  aws_glue: AWS_GLUE_SCHEMA,
  k8s: K8S_SCHEMA,
};

for (const [type, schema] of Object.entries(BUILTIN_EXECUTOR_SCHEMAS)) {
  defineExecutorSchema(type, schema);
}
