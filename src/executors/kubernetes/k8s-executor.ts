/**
 * The Kubernetes executor (`type = k8s`): runs each job as a `batch/v1` Job through the remote
 * job protocol (src/executors/remote/): the call is written to the scratch space (`s3://`,
 * or a directory shared with the nodes and mounted into pods at the same path), the container
 * runs `redun oneshot`, and the output or error is read back from there.
 *
 * - Jobs are named `PREFIX-EVAL_HASH` and labelled (./k8s-job.ts); credentials and
 *   `secret_env_vars` reach pods through a Secret (./k8s-secret.ts).
 * - Equivalent jobs waiting at most `job_stale_time` go as one Indexed Job (servers ≥ 1.21;
 *   older ones get single Jobs and one warning).
 * - One monitor loop lists the executor's Jobs and Pods by label (./k8s-monitor.ts); a failed
 *   job's pod log tail is added to its error.
 * - A scheduler started again finds the Job of the same call and waits for it.
 * - `stop()` (the scheduler was interrupted) deletes the Jobs in flight.
 */
import path from "node:path";
import { isUri } from "../../files/filesystem.ts";
import type { Executor, ExecutorFactory, JobSpec } from "../executor.ts";
import { parseExecutorOptions } from "../parse-options.ts";
import {
  collectRemoteResult,
  prepareRemoteJob,
  type PreparedRemoteJob,
  type RemoteJobSettings,
} from "../remote/remote-job.ts";
import {
  arrayJobsPath,
  jobPaths,
  readStatus,
  writeScratchFile,
  writeScratchJson,
  type JobPaths,
} from "../remote/scratch.ts";
import { ArrayBatcher, type SubmissionPlan } from "../aws-batch/arrays.ts";
import { connectK8s, K8sApiError, type K8sApi, type K8sVersion } from "./k8s-api.ts";
import {
  arrayIdOf,
  arrayJobName,
  EXECUTOR_LABEL,
  jobLabels,
  jobManifest,
  labelValue,
  singleJobName,
  type PodContext,
} from "./k8s-job.ts";
import { K8sJobNotFoundError, K8sMonitor, type K8sJobEnd, type K8sJobRef } from "./k8s-monitor.ts";
import { readK8sRecord, writeK8sRecord } from "./k8s-record.ts";
import { K8S_SCHEMA, type K8sOptions } from "./k8s-schema.ts";
import { DEFAULT_SECRET_NAME, secretData } from "./k8s-secret.ts";
import { k8sEquivalenceKey, resolveK8sJobSettings, type K8sJobSettings } from "./k8s-settings.ts";
import { log, messageOf } from "../remote/executor-log.ts";
import { Submissions } from "../remote/submissions.ts";

/** A prepared job waiting to be submitted. */
interface PendingJob {
  job: JobSpec;
  settings: K8sJobSettings;
  prepared: PreparedRemoteJob;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Lines of pod log added to a failed job's error. */
const LOG_TAIL_LINES = 50;
/** `ttlSecondsAfterFinished` of Jobs (servers ≥ 1.21): a backstop, redun deletes them itself. */
const TTL_SECONDS = 24 * 3600;
/** Indexed Jobs (and the TTL controller, beta) came with Kubernetes 1.21. */
const INDEXED_MINOR = 21;

/** Runs jobs as Kubernetes Jobs. */
export class K8sExecutor implements Executor {
  /** The scratch root: a URI, or an absolute directory (without a trailing slash). */
  readonly scratch: string;
  private readonly monitor: K8sMonitor;
  private readonly batcher: ArrayBatcher<PendingJob>;
  private readonly submissions: Submissions;
  private readonly cleanups = new Set<Promise<void>>();
  private readonly packages: RemoteJobSettings["packageCache"] = new Map();
  private readonly secrets = new Map<string, Promise<PodContext>>();
  /** Children of an Indexed Job not yet collected (the Job is deleted at 0). */
  private readonly arrayRemaining = new Map<string, number>();
  private apiPromise: Promise<K8sApi> | undefined;
  private versionPromise: Promise<K8sVersion> | undefined;
  private warnedOld = false;
  private stopped = false;

  constructor(
    readonly name: string,
    readonly options: K8sOptions,
    private readonly configDir?: string,
  ) {
    this.submissions = new Submissions(
      { name, where: `[executors.${name}]`, service: "Kubernetes" },
      () => this.stopped,
    );
    const scratch = options.scratch.replace(/\/+$/, "") || "/";
    this.scratch = isUri(scratch) ? scratch : path.resolve(configDir ?? process.cwd(), scratch);
    this.monitor = new K8sMonitor({
      api: () => this.api(),
      selector: `${EXECUTOR_LABEL}=${this.executorLabel}`,
      intervalMs: options.job_monitor_interval * 1000,
      warn: (message) => log(`executor "${name}": ${message}`),
    });
    this.batcher = new ArrayBatcher<PendingJob>({
      minSize: options.min_array_size,
      maxSize: options.max_array_size,
      staleMs: options.job_stale_time * 1000,
      submit: (_key, plan) => this.submitPlan(plan),
    });
    const meaningless = (["share_id", "scheduling_priority_override"] as const).filter(
      (key) => options[key] !== undefined && options[key] !== null,
    );
    if (meaningless.length > 0) {
      const plural = meaningless.length > 1;
      log(
        `warning: ${this.where}: ${meaningless.join(" and ")} ${plural ? "have" : "has"} no ` +
          `meaning on Kubernetes (AWS Batch scheduling policies) and ${plural ? "are" : "is"} ignored`,
      );
    }
  }

  private get where(): string {
    return `[executors.${this.name}]`;
  }

  /** The value of the label that marks this executor's Jobs and Pods. */
  get executorLabel(): string {
    return labelValue(this.name) || "redun";
  }

  /** The remote-protocol settings of this executor. */
  remoteSettings(): RemoteJobSettings {
    return {
      executorName: this.name,
      scratch: this.scratch,
      codePackage: this.options.code_package,
      codeIncludes: this.options.code_includes ?? undefined,
      codeExcludes: this.options.code_excludes ?? undefined,
      packageCache: this.packages,
    };
  }

  /** The API client (connected on first use). */
  api(): Promise<K8sApi> {
    if (!this.apiPromise) {
      const kubeconfig = this.options.kubeconfig
        ? path.resolve(this.configDir ?? process.cwd(), this.options.kubeconfig)
        : undefined;
      this.apiPromise = connectK8s({ kubeconfig, context: this.options.context ?? undefined });
      this.apiPromise.catch(() => (this.apiPromise = undefined));
    }
    return this.apiPromise;
  }

  /** The server's version, asked once. */
  private version(): Promise<K8sVersion> {
    if (!this.versionPromise) {
      this.versionPromise = this.api().then((api) => api.version());
      this.versionPromise.catch(() => (this.versionPromise = undefined));
    }
    return this.versionPromise;
  }

  private async supports(minor: number): Promise<boolean> {
    const v = await this.version();
    return v.major > 1 || (v.major === 1 && v.minor >= minor);
  }

  async submit(job: JobSpec): Promise<unknown> {
    if (this.stopped) throw new Error(`executor "${this.name}" has stopped`);
    const settings = resolveK8sJobSettings(this.options, job.options, job.task.fullname);
    let reunited: { value: unknown } | undefined;
    try {
      reunited = await this.reunite(job);
    } catch (error) {
      if (!(error instanceof K8sApiError)) throw error;
      throw this.submissions.error(job, error);
    }
    if (reunited) return reunited.value;
    const prepared = await prepareRemoteJob(job, this.remoteSettings());
    return new Promise<unknown>((resolve, reject) => {
      const pending: PendingJob = { job, settings, prepared, resolve, reject };
      this.batcher.add(k8sEquivalenceKey(job.task.fullname, settings), pending);
    });
  }

  // ---- reuniting ------------------------------------------------------------------------

  /**
   * The result of a Job an earlier scheduler created for this very call (found by the call's
   * record and the executor's label): its output when it finished but was never collected,
   * else the Job's end while it is still running. `undefined` when there is none to wait
   * for (never created, collected and deleted, or failed: failures run again).
   */
  private async reunite(job: JobSpec): Promise<{ value: unknown } | undefined> {
    const ref = await readK8sRecord(this.scratch, job.evalHash);
    if (!ref) return undefined;
    const api = await this.api();
    const found = (await api.listJobs(ref.namespace, this.monitor.selector)).find(
      (j) => j.metadata?.name === ref.name,
    );
    if (!found || found.metadata?.deletionTimestamp) return undefined;
    const paths = jobPaths(this.scratch, job.evalHash);
    const single = ref.index === undefined;
    if (ref.index !== undefined) {
      this.arrayRemaining.set(ref.name, (this.arrayRemaining.get(ref.name) ?? 0) + 1);
    }
    if ((await readStatus(paths.status)) === "DONE") {
      try {
        const value = await collectRemoteResult(paths, {
          task: job.task.fullname,
          executorName: this.name,
        });
        log(
          `executor "${this.name}": ${job.task.fullname}: result of Kubernetes job ${ref.name} (finished earlier)`,
        );
        return { value };
      } catch {
        return undefined; // an unreadable output: run the job again
      } finally {
        this.cleanup(ref);
      }
    }
    const failed = found.status?.conditions?.some(
      (c) => c.type === "Failed" && c.status === "True",
    );
    if (failed) {
      this.cleanup(ref);
      return undefined;
    }
    log(
      `executor "${this.name}": ${job.task.fullname}: reunited with Kubernetes job ${ref.name}` +
        (single ? "" : ` (index ${ref.index})`),
    );
    let ended: K8sJobEnd;
    try {
      ended = await this.monitor.track(ref, 2);
    } catch (error) {
      if (error instanceof K8sJobNotFoundError) return undefined;
      throw error;
    }
    return { value: await this.collect(job, ref, ended, paths) };
  }

  // ---- submission -----------------------------------------------------------------------

  private submitPlan(plan: SubmissionPlan<PendingJob>): void {
    for (const item of plan.singles) this.submissions.track(this.submitSingle(item), [item]);
    for (const items of plan.arrays) this.submissions.track(this.submitArray(items), items);
  }

  /** How pods of a namespace run: the Secret (written once per namespace), the scratch. */
  private podContext(namespace: string): Promise<PodContext> {
    let promise = this.secrets.get(namespace);
    if (!promise) {
      promise = (async () => {
        const { data, missing } = secretData(
          this.options.import_aws_secrets,
          this.options.secret_env_vars ?? [],
        );
        if (missing.length > 0) {
          log(
            `warning: ${this.where}: secret_env_vars names ${missing.join(", ")}, not set in the scheduler's environment`,
          );
        }
        const name = this.options.secret_name ?? DEFAULT_SECRET_NAME;
        const hasData = Object.keys(data).length > 0;
        if (hasData) await (await this.api()).applySecret(namespace, name, data);
        const ttl = (await this.supports(INDEXED_MINOR)) ? TTL_SECONDS : undefined;
        return {
          scratch: this.scratch,
          ...(hasData || this.options.secret_name
            ? { secretName: name, secretOptional: !hasData }
            : {}),
          imagePullPolicy: this.options.image_pull_policy ?? undefined,
          hostNetwork: this.options.host_network,
          ttlSeconds: ttl,
        };
      })();
      this.secrets.set(namespace, promise);
      promise.catch(() => this.secrets.delete(namespace));
    }
    return promise;
  }

  /**
   * Creates a Job. A Job of the same name left by an earlier run (finished, never collected)
   * is deleted first. If we stopped meanwhile, the new Job is deleted at once.
   */
  private async create(namespace: string, manifest: ReturnType<typeof jobManifest>): Promise<void> {
    const api = await this.api();
    const name = manifest.metadata!.name!;
    for (let attempt = 1; ; attempt++) {
      try {
        await api.createJob(namespace, manifest);
        break;
      } catch (error) {
        if (!(error instanceof K8sApiError) || error.status !== 409 || attempt >= 30) throw error;
        if (attempt === 1) await api.deleteJob(namespace, name);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
    if (this.stopped) {
      await api.deleteJob(namespace, name).catch(() => undefined);
      throw new Error(`executor "${this.name}" stopped while the job was being submitted`);
    }
  }

  private async submitSingle(item: PendingJob): Promise<void> {
    const { job, settings, prepared } = item;
    const namespace = settings.namespace;
    const name = singleJobName(settings.jobNamePrefix, job.evalHash);
    const labels = jobLabels(settings, {
      executor: this.executorLabel,
      jobId: job.jobId,
      taskName: job.task.fullname,
      executionId: job.executionId,
      evalHash: job.evalHash,
    });
    const pod = await this.podContext(namespace);
    await this.create(namespace, jobManifest(name, labels, settings, pod, prepared.command));
    const ref = { namespace, name };
    await writeK8sRecord(this.scratch, job.evalHash, ref);
    this.follow(item, ref);
  }

  private async submitArray(items: PendingJob[]): Promise<void> {
    if (!(await this.supports(INDEXED_MINOR))) {
      if (!this.warnedOld) {
        this.warnedOld = true;
        const v = await this.version();
        log(
          `warning: executor "${this.name}": Kubernetes server ${v.gitVersion} is too old for ` +
            `Indexed Jobs (1.${INDEXED_MINOR}+): array jobs are submitted as single jobs`,
        );
      }
      for (const item of items) this.submissions.track(this.submitSingle(item), [item]);
      return;
    }
    const { settings, job, prepared } = items[0]!;
    const namespace = settings.namespace;
    const hashes = items.map((item) => item.job.evalHash);
    const arrayId = arrayIdOf(hashes);
    const list = arrayJobsPath(this.scratch, arrayId);
    await writeScratchJson(list, hashes);
    // The same command as a single job's, with the array's job list instead of one input.
    const redun = prepared.command.slice(0, prepared.command.indexOf("oneshot"));
    const command = [
      ...redun,
      "oneshot",
      "--array-jobs",
      list,
      ...(prepared.codeUri ? ["--code", prepared.codeUri] : []),
    ];
    const name = arrayJobName(settings.jobNamePrefix, arrayId);
    const labels = jobLabels(settings, {
      executor: this.executorLabel,
      jobId: job.jobId,
      taskName: job.task.fullname,
      executionId: job.executionId,
      arrayId,
    });
    const pod = await this.podContext(namespace);
    await this.create(namespace, jobManifest(name, labels, settings, pod, command, items.length));
    this.arrayRemaining.set(name, items.length);
    await Promise.all(
      items.map((item, index) =>
        writeK8sRecord(this.scratch, item.job.evalHash, { namespace, name, index }),
      ),
    );
    items.forEach((item, index) => this.follow(item, { namespace, name, index }));
  }

  /** Waits for a created Job through the monitor, then settles its call. */
  private follow(item: PendingJob, ref: K8sJobRef): void {
    this.monitor
      .track(ref)
      .then((end) => this.collect(item.job, ref, end, item.prepared.paths))
      .then(item.resolve, item.reject);
  }

  /** The result of an ended job: its output, or its error with the pod's log tail. */
  private async collect(
    job: JobSpec,
    ref: K8sJobRef,
    end: K8sJobEnd,
    paths: JobPaths,
  ): Promise<unknown> {
    const base = { task: job.task.fullname, executorName: this.name, exitCode: end.exitCode };
    try {
      if (end.succeeded) return await collectRemoteResult(paths, base);
      let podLog: string | undefined;
      if (end.pod) {
        podLog = await (
          await this.api()
        )
          .podLog(ref.namespace, end.pod, LOG_TAIL_LINES)
          .catch(() => undefined);
        if (podLog) await writeScratchFile(paths.log, podLog).catch(() => undefined);
      }
      const detail = [
        end.reason,
        end.message ? `(${end.message})` : "",
        end.pod ? `; pod ${end.pod}${end.podReason ? `: ${end.podReason}` : ""}` : "",
      ]
        .filter(Boolean)
        .join(" ");
      return await collectRemoteResult(paths, {
        ...base,
        log: podLog ?? "",
        tailLines: LOG_TAIL_LINES,
        hint: `Kubernetes job ${ref.name}${ref.index !== undefined ? ` (index ${ref.index})` : ""} failed: ${detail}`,
      });
    } finally {
      this.cleanup(ref);
    }
  }

  /** Deletes a collected Job (an Indexed Job once all its children are collected). */
  private cleanup(ref: K8sJobRef): void {
    if (ref.index !== undefined) {
      const left = (this.arrayRemaining.get(ref.name) ?? 1) - 1;
      if (left > 0) {
        this.arrayRemaining.set(ref.name, left);
        return;
      }
      this.arrayRemaining.delete(ref.name);
    }
    const done = this.api()
      .then((api) => api.deleteJob(ref.namespace, ref.name))
      .catch((error) =>
        log(
          `executor "${this.name}": cannot delete Kubernetes job ${ref.name}: ${messageOf(error)}`,
        ),
      );
    this.cleanups.add(done);
    void done.finally(() => this.cleanups.delete(done));
  }

  // ---- stop -----------------------------------------------------------------------------

  /**
   * Cancels: jobs not yet submitted are dropped, Jobs in flight are deleted (their pods in
   * the background) and their calls abandoned (the executor contract). A scheduler that dies
   * without stopping leaves them running; started again, it waits for them.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.batcher.clear();
    await this.submissions.settled();
    const refs = new Map(this.monitor.refs().map((r) => [`${r.namespace}/${r.name}`, r]));
    this.monitor.stop();
    if (refs.size > 0) {
      log(`executor "${this.name}": deleting ${refs.size} Kubernetes job(s)`);
      const api = await this.api();
      await Promise.all(
        [...refs.values()].map((r) =>
          api
            .deleteJob(r.namespace, r.name)
            .catch((error) =>
              log(
                `executor "${this.name}": cannot delete Kubernetes job ${r.name}: ${messageOf(error)}`,
              ),
            ),
        ),
      );
    }
    await Promise.all([...this.cleanups]);
  }
}

/** Parses an executor's options. */
export function k8sExecutorOptions(
  name: string,
  raw: Readonly<Record<string, unknown>>,
): K8sOptions {
  return parseExecutorOptions("k8s", name, raw, K8S_SCHEMA) as unknown as K8sOptions;
}

/** Creates a Kubernetes executor from its `[executors.NAME]` options (registered as `k8s`). */
export const createK8sExecutor: ExecutorFactory = (name, raw, context) =>
  new K8sExecutor(name, k8sExecutorOptions(name, raw), context.configDir);
