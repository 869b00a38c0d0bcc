/**
 * The task options the Kubernetes executor reads (each overrides an executor option for one
 * task, see ./k8s-settings.ts), merged into the engine's `ExecutorTaskOptions` so editors
 * complete them. Their checks are declared with the type's loader in src/executors/builtin.ts.
 */

/** Task options of the Kubernetes executor. */
export interface K8sTaskOptions {
  /** Container image. */
  image?: string;
  /** CPUs requested (and the limit); fractions are allowed (`0.5` is `500m`). */
  vcpus?: number;
  /** Memory in GiB (request and limit). */
  memory?: number;
  /** Kubernetes namespace of the Job (`namespace` is the task's own namespace). */
  k8sNamespace?: string;
  serviceAccountName?: string;
  annotations?: Record<string, string>;
  k8sLabels?: Record<string, string>;
  /**
   * Retries of a failed pod: the Job's `backoffLimit` (the executor's `retries`); the task
   * option `retries` is the scheduler's own retry of a failed job, on top.
   */
  k8sRetries?: number;
  /** Seconds before the Job is stopped (`activeDeadlineSeconds`). */
  timeout?: number;
}

declare module "../../api/options.js" {
  interface ExecutorTaskOptions extends K8sTaskOptions {}
}
