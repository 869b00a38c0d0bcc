/**
 * `redun/executors`: for writing an executor, or using one directly. The registry
 * (`registerExecutorType`, with the type's option schema and task options), the executors
 * that ship with redun, and the pieces remote executors share: preparing a job's scratch
 * files, collecting its result, and building a code package. Importing this subpath loads
 * the built-in executors' modules (not their cloud SDKs, which load when used).
 *
 * @packageDocumentation
 */
export {
  registerExecutorType,
  type Executor,
  type ExecutorFactory,
  type ExecutorContext,
  type JobSpec,
} from "./executor.ts";
export { LocalExecutor, type LocalExecutorOptions } from "./local/local.ts";
export { DockerExecutor, type DockerExecutorOptions } from "./docker/docker.ts";
export { AwsBatchExecutor } from "./aws-batch/aws-batch.ts";
export {
  prepareRemoteJob,
  collectRemoteResult,
  RemoteJobError,
  type RemoteJobSettings,
  type PreparedRemoteJob,
} from "./remote/remote-job.ts";
export { buildCodePackage, CodePackageError, type CodePackage } from "./remote/code-package.ts";
export type { RemoteJobInput } from "./remote/scratch.ts";
export { registerExecutorSchema } from "../config/executor-options.ts";
export type { OptionSchema, OptionSpec, OptionType } from "../config/option-schema.ts";
