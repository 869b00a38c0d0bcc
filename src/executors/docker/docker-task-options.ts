/**
 * The task options the docker executor reads (each overrides the executor's option of the
 * same name for one task), merged into the engine's `ExecutorTaskOptions` so editors complete
 * them. Their checks are declared with the type's loader in src/executors/builtin.ts.
 */

/** Task options of the docker executor. */
export interface DockerTaskOptions {
  /** Container image. */
  image?: string;
  vcpus?: number;
  gpus?: number;
  /** Memory in GiB. */
  memory?: number;
  /** Run the container interactively (its output on the terminal). */
  interactive?: boolean;
}

declare module "../../api/options.js" {
  interface ExecutorTaskOptions extends DockerTaskOptions {}
}
