/**
 * One loop per executor watches all its Jobs: every `job_monitor_interval` it lists, per
 * namespace, the Jobs and the Pods that carry the executor's label (two calls, however many
 * jobs), and settles each tracked job (a single Job, or one index of an Indexed Job) when it
 * has ended: succeeded, failed (the Job's condition), or stuck where Kubernetes would wait
 * forever (an image that cannot be pulled, a pod that cannot be scheduled for a while). API
 * errors back off exponentially.
 */
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { Backoff } from "../aws/backoff.ts";
import { PollLoop } from "../remote/poll-loop.ts";
import type { K8sApi } from "./k8s-api.ts";

/** A job as tracked: the Job's namespace and name, and an Indexed Job's index. */
export interface K8sJobRef {
  namespace: string;
  name: string;
  index?: number;
}

/** How a job ended. */
export interface K8sJobEnd {
  succeeded: boolean;
  /** Kubernetes' reason (`BackoffLimitExceeded`, `DeadlineExceeded`, `ErrImageNeverPull`, …). */
  reason?: string;
  message?: string;
  /** The pod whose log tells most (the last one started), and how its container ended. */
  pod?: string;
  podReason?: string;
  exitCode?: number;
}

/** The Job of a tracked job is gone. */
export class K8sJobNotFoundError extends Error {
  override name = "K8sJobNotFoundError";
}

/** Waiting reasons Kubernetes never gets out of by itself. */
const STUCK_WAITING = new Set([
  "ErrImageNeverPull",
  "ImagePullBackOff",
  "ErrImagePull",
  "InvalidImageName",
  "CreateContainerConfigError",
  "CreateContainerError",
]);

/** Completion index of a pod of an Indexed Job. */
const INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index";

/** Whether `index` is in a `completedIndexes` string such as `"0-2,5"`. */
export function indexCompleted(completed: string | undefined, index: number): boolean {
  for (const part of (completed ?? "").split(",")) {
    const [from, to] = part.split("-").map((s) => Number(s.trim()));
    if (from === undefined || !Number.isFinite(from) || part.trim() === "") continue;
    if (index >= from && index <= (to !== undefined && Number.isFinite(to) ? to : from))
      return true;
  }
  return false;
}

function condition(job: V1Job, type: string) {
  return job.status?.conditions?.find((c) => c.type === type && c.status === "True");
}

function started(pod: V1Pod): number {
  return Date.parse(String(pod.metadata?.creationTimestamp ?? "")) || 0;
}

/** How the container of a pod ended, if it did. */
function terminated(pod: V1Pod) {
  const status = pod.status?.containerStatuses?.[0];
  return status?.state?.terminated ?? status?.lastState?.terminated;
}

/** Options of a {@link K8sMonitor}. */
export interface K8sMonitorOptions {
  api: () => Promise<K8sApi>;
  /** The executor's label selector (`redun_executor=NAME`). */
  selector: string;
  intervalMs: number;
  /** How long a pod may stay unschedulable before its job fails. */
  unschedulableMs?: number;
  warn(message: string): void;
}

interface Tracked {
  ref: K8sJobRef;
  /** Polls in a row that did not find the Job. */
  misses: number;
  maxMisses: number;
  unschedulableSince?: number;
  onSeen?: (job: V1Job) => void;
  resolve(end: K8sJobEnd): void;
  reject(error: unknown): void;
}

/** Watches an executor's Jobs (see the module comment). */
export class K8sMonitor {
  private readonly tracked = new Map<string, Tracked>();
  private readonly loop: PollLoop;
  private readonly backoff = new Backoff(1000, 60_000);
  private failing = false;
  /** List calls made so far (jobs and pods). */
  listCalls = 0;
  /** The label selector of the executor's Jobs and Pods. */
  readonly selector: string;

  constructor(private readonly options: K8sMonitorOptions) {
    this.selector = options.selector;
    this.loop = new PollLoop(
      options.intervalMs,
      () => this.tracked.size > 0,
      () => this.poll(),
    );
  }

  /**
   * Waits for a job's end. `maxMisses`: polls in a row that may miss the Job before it is
   * reported gone ({@link K8sJobNotFoundError}).
   */
  track(ref: K8sJobRef, maxMisses = 3, onSeen?: (job: V1Job) => void): Promise<K8sJobEnd> {
    return new Promise<K8sJobEnd>((resolve, reject) => {
      this.tracked.set(keyOf(ref), { ref, misses: 0, maxMisses, onSeen, resolve, reject });
      this.loop.resume();
      this.loop.start();
    });
  }

  /** The jobs still tracked. */
  refs(): K8sJobRef[] {
    return [...this.tracked.values()].map((t) => t.ref);
  }

  /** Stops watching (tracked jobs are abandoned). */
  stop(): void {
    this.loop.stop();
    this.tracked.clear();
  }

  private async poll(): Promise<number> {
    const namespaces = new Set([...this.tracked.values()].map((t) => t.ref.namespace));
    try {
      const api = await this.options.api();
      for (const namespace of namespaces) {
        const [jobs, pods] = await Promise.all([
          api.listJobs(namespace, this.options.selector),
          api.listPods(namespace, this.options.selector),
        ]);
        this.listCalls += 2;
        this.settle(namespace, jobs, pods);
      }
      this.backoff.succeed();
      this.failing = false;
      return this.options.intervalMs;
    } catch (error) {
      const wait = this.backoff.fail();
      if (!this.failing) {
        this.failing = true;
        this.options.warn(
          `cannot list Kubernetes jobs (trying again with backoff): ${(error as Error).message}`,
        );
      }
      return Math.max(this.options.intervalMs, wait);
    }
  }

  private settle(namespace: string, jobs: V1Job[], pods: V1Pod[]): void {
    const byName = new Map(jobs.map((j) => [j.metadata?.name ?? "", j]));
    for (const [key, t] of [...this.tracked]) {
      if (t.ref.namespace !== namespace) continue;
      const job = byName.get(t.ref.name);
      if (!job) {
        if (++t.misses >= t.maxMisses) {
          this.tracked.delete(key);
          t.reject(
            new K8sJobNotFoundError(
              `Kubernetes job ${t.ref.name} (namespace ${namespace}) no longer exists`,
            ),
          );
        }
        continue;
      }
      t.misses = 0;
      t.onSeen?.(job);
      t.onSeen = undefined;
      const own = pods
        .filter((p) => p.metadata?.labels?.["job-name"] === t.ref.name)
        .filter(
          (p) =>
            t.ref.index === undefined ||
            p.metadata?.annotations?.[INDEX_ANNOTATION] === String(t.ref.index),
        )
        .sort((a, b) => started(a) - started(b));
      const end = this.endOf(t, job, own);
      if (end) {
        this.tracked.delete(key);
        t.resolve(end);
      }
    }
  }

  /** The job's end, if it has ended (or is stuck for good). */
  private endOf(t: Tracked, job: V1Job, pods: V1Pod[]): K8sJobEnd | undefined {
    const last = pods[pods.length - 1];
    const podInfo = (pod: V1Pod | undefined): Partial<K8sJobEnd> => {
      // The most telling pod: the last that ran a container, else the last one.
      const ran = [...pods].reverse().find((p) => terminated(p)) ?? pod;
      const term = ran && terminated(ran);
      return {
        pod: ran?.metadata?.name,
        podReason: term?.reason ?? ran?.status?.reason,
        exitCode: term?.exitCode,
      };
    };
    if (t.ref.index !== undefined) {
      if (indexCompleted(job.status?.completedIndexes, t.ref.index)) return { succeeded: true };
    } else if (condition(job, "Complete")) {
      return { succeeded: true };
    }
    const failed = condition(job, "Failed");
    if (failed) {
      return {
        succeeded: false,
        reason: failed.reason ?? "Failed",
        message: failed.message,
        ...podInfo(last),
      };
    }
    for (const pod of pods) {
      const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
      if (waiting?.reason && STUCK_WAITING.has(waiting.reason)) {
        return {
          succeeded: false,
          reason: waiting.reason,
          message: waiting.message,
          pod: pod.metadata?.name,
        };
      }
    }
    const unschedulable = last?.status?.conditions?.find(
      (c) => c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable",
    );
    if (!unschedulable) {
      t.unschedulableSince = undefined;
      return undefined;
    }
    t.unschedulableSince ??= Date.now();
    if (Date.now() - t.unschedulableSince < (this.options.unschedulableMs ?? 300_000)) {
      return undefined;
    }
    return {
      succeeded: false,
      reason: "Unschedulable",
      message: unschedulable.message,
      pod: last?.metadata?.name,
    };
  }
}

function keyOf(ref: K8sJobRef): string {
  return `${ref.namespace}/${ref.name}/${ref.index ?? ""}`;
}
