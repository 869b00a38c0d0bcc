/**
 * The task options a Kubernetes executor will read, merged into the engine's
 * `ExecutorTaskOptions` so editors complete them. The executor does not exist yet (see
 * ./k8s-schema.ts); tasks may already set these. Their checks are declared with the type's loader
 * in src/executors/builtin.ts.
 */

/** Task options of the Kubernetes executor. */
export interface K8sTaskOptions {
  /** Container image. */
  image?: string;
  vcpus?: number;
  /** Memory in GiB. */
  memory?: number;
  serviceAccountName?: string;
  annotations?: Record<string, string>;
  k8sLabels?: Record<string, string>;
}

declare module "../../api/options.js" {
  interface ExecutorTaskOptions extends K8sTaskOptions {}
}
