/**
 * The few Kubernetes API calls the executor makes, over `@kubernetes/client-node` (loaded
 * here, on first use, so that nothing else pays for it). Credentials the usual way:
 * the `kubeconfig` option, else `KUBECONFIG`, `~/.kube/config`, or the in-cluster service
 * account; `context` picks a kubeconfig context. API failures become {@link K8sApiError}s
 * with the HTTP status and the server's message.
 */
import type { V1Job, V1Pod } from "@kubernetes/client-node";

/** A failed API call: `status` is the HTTP status (0 when the server was not reached). */
export class K8sApiError extends Error {
  override name = "K8sApiError";
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The server's version. */
export interface K8sVersion {
  major: number;
  minor: number;
  gitVersion: string;
}

/** What the executor needs from the API. */
export interface K8sApi {
  /** `GET /version`. */
  version(): Promise<K8sVersion>;
  createJob(namespace: string, job: V1Job): Promise<V1Job>;
  listJobs(namespace: string, labelSelector: string): Promise<V1Job[]>;
  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
  /** Deletes a Job and (in the background) its pods; no error when it is gone. */
  deleteJob(namespace: string, name: string): Promise<void>;
  /** The last `lines` lines of a pod's log (`undefined` when there is none). */
  podLog(namespace: string, pod: string, lines: number): Promise<string | undefined>;
  /** Creates or replaces an Opaque Secret. */
  applySecret(namespace: string, name: string, data: Record<string, string>): Promise<void>;
  /** The API server's address (for messages). */
  readonly server: string;
}

/** Where the cluster's credentials come from. */
export interface K8sConnection {
  kubeconfig?: string;
  context?: string;
}

type ClientModule = typeof import("@kubernetes/client-node");

/** What `loadFromDefault` falls back to when it finds no configuration at all. */
const NO_CONFIG = "http://localhost:8080";

function apiError(error: unknown, what: string): K8sApiError {
  const e = error as { code?: unknown; body?: unknown; message?: string };
  const status = typeof e?.code === "number" ? e.code : 0;
  let detail = e?.message ?? String(error);
  let body = e?.body;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      // not JSON: the message says enough
    }
  }
  const message = (body as { message?: unknown } | undefined)?.message;
  if (typeof message === "string" && message) detail = message;
  else if (status === 0 && e && typeof e === "object" && "cause" in e) {
    detail += ` (${String((e as { cause?: { message?: string } }).cause?.message ?? "")})`;
  }
  return new K8sApiError(`${what}: ${status ? `HTTP ${status}: ` : ""}${detail}`, status);
}

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw apiError(error, what);
  }
}

/** Connects to the cluster (loading the client library). */
export async function connectK8s(connection: K8sConnection = {}): Promise<K8sApi> {
  const k8s: ClientModule = await import("@kubernetes/client-node");
  const kc = new k8s.KubeConfig();
  try {
    if (connection.kubeconfig) kc.loadFromFile(connection.kubeconfig);
    else kc.loadFromDefault();
    if (connection.context) kc.setCurrentContext(connection.context);
  } catch (error) {
    throw new K8sApiError(
      `cannot read the Kubernetes configuration${connection.kubeconfig ? ` ${connection.kubeconfig}` : ""}: ${(error as Error).message}`,
      0,
    );
  }
  if (connection.context && !kc.getContextObject(connection.context)) {
    throw new K8sApiError(`the kubeconfig has no context "${connection.context}"`, 0);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new K8sApiError("the kubeconfig names no cluster", 0);
  if (!connection.kubeconfig && cluster.name === "cluster" && cluster.server === NO_CONFIG) {
    // The library's last resort: nothing was found.
    throw new K8sApiError(
      "no Kubernetes configuration found: set KUBECONFIG, create ~/.kube/config, run in a " +
        "cluster, or set kubeconfig in the executor's section",
      0,
    );
  }
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const versionApi = kc.makeApiClient(k8s.VersionApi);
  return {
    server: cluster.server,
    async version() {
      const info = await call("GET /version", () => versionApi.getCode());
      return {
        major: parseInt(info.major, 10),
        minor: parseInt(info.minor, 10),
        gitVersion: info.gitVersion,
      };
    },
    createJob: (namespace, body) =>
      call(`creating Job ${body.metadata?.name} in namespace ${namespace}`, () =>
        batch.createNamespacedJob({ namespace, body }),
      ),
    async listJobs(namespace, labelSelector) {
      const list = await call(`listing Jobs in namespace ${namespace}`, () =>
        batch.listNamespacedJob({ namespace, labelSelector }),
      );
      return list.items;
    },
    async listPods(namespace, labelSelector) {
      const list = await call(`listing Pods in namespace ${namespace}`, () =>
        core.listNamespacedPod({ namespace, labelSelector }),
      );
      return list.items;
    },
    async deleteJob(namespace, name) {
      try {
        await call(`deleting Job ${name} in namespace ${namespace}`, () =>
          batch.deleteNamespacedJob({ name, namespace, propagationPolicy: "Background" }),
        );
      } catch (error) {
        if ((error as K8sApiError).status !== 404) throw error;
      }
    },
    async podLog(namespace, pod, lines) {
      try {
        const text = await call(`reading the log of pod ${pod}`, () =>
          core.readNamespacedPodLog({ name: pod, namespace, tailLines: lines }),
        );
        return typeof text === "string" ? text : undefined;
      } catch (error) {
        const status = (error as K8sApiError).status;
        if (status === 404 || status === 400) return undefined; // gone, or never started
        throw error;
      }
    },
    async applySecret(namespace, name, data) {
      const body = {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name, namespace, labels: { "app.kubernetes.io/managed-by": "redun" } },
        type: "Opaque",
        stringData: data,
      };
      try {
        await call(`creating Secret ${name} in namespace ${namespace}`, () =>
          core.createNamespacedSecret({ namespace, body }),
        );
      } catch (error) {
        if ((error as K8sApiError).status !== 409) throw error;
        await call(`updating Secret ${name} in namespace ${namespace}`, () =>
          core.replaceNamespacedSecret({ name, namespace, body }),
        );
      }
    },
  };
}
