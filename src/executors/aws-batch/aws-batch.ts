/**
 * The AWS Batch executor (`type = aws_batch`): runs each job as an AWS Batch job through
 * the remote job protocol (src/executors/remote/): the call is written to `s3_scratch`,
 * the container runs `redun oneshot`, and the output or error is read back from there.
 *
 * - Job definitions are found or registered per image/role/resources (job-def.ts).
 * - Equivalent jobs waiting at most `job_stale_time` go as one array job (arrays.ts).
 * - One monitor loop polls DescribeJobs for every job of the executor (monitor.ts); a
 *   failed job's CloudWatch log tail is added to its error (logs.ts).
 * - A scheduler started again reunites with the Batch jobs of an earlier one (record.ts).
 * - `stop()` (the scheduler was interrupted) terminates the jobs still queued or running.
 * - `debug = true` runs the same container locally with the docker executor.
 */
import type { JobDetail } from "@aws-sdk/client-batch";
import path from "node:path";
import { isUri } from "../../files/filesystem.ts";
import {
  executorFactory,
  loadExecutorType,
  type Executor,
  type ExecutorFactory,
  type JobSpec,
} from "../executor.ts";
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
  writeScratchJson,
  type JobPaths,
} from "../remote/scratch.ts";
import { ArrayBatcher, type SubmissionPlan } from "./arrays.ts";
import { retryThrottled } from "../aws/backoff.ts";
import { AwsClients } from "./clients.ts";
import { JobDefinitions, jobDefSpec } from "./job-def.ts";
import { readLogTail } from "./logs.ts";
import { BatchJobNotFoundError, JobMonitor } from "./monitor.ts";
import { equivalenceKey, resolveJobSettings, type BatchJobSettings } from "./job-settings.ts";
import { readRecord, writeRecord } from "./record.ts";
import { AWS_BATCH_SCHEMA, type AwsBatchOptions } from "./batch-schema.ts";
import {
  arrayIdOf,
  arrayJobName,
  arrayJobRequest,
  jobEnvironment,
  multiNodeRequest,
  singleJobName,
  singleJobRequest,
  type SubmitCommon,
} from "./submit-job.ts";
import { buildTags, type TagContext } from "./batch-tags.ts";
import { log, messageOf } from "../remote/executor-log.ts";
import { Submissions } from "../remote/submissions.ts";

/** A prepared job waiting to be submitted. */
interface PendingJob {
  job: JobSpec;
  settings: BatchJobSettings;
  prepared: PreparedRemoteJob;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Lines of CloudWatch log added to a failed job's error. */
const LOG_TAIL_LINES = 50;

/** Runs jobs on AWS Batch. */
export class AwsBatchExecutor implements Executor {
  /** The scratch root, without a trailing slash. */
  readonly scratch: string;
  private readonly clients: AwsClients;
  private readonly jobDefs = new JobDefinitions();
  private readonly monitor: JobMonitor;
  private readonly batcher: ArrayBatcher<PendingJob>;
  private readonly submissions: Submissions;
  private debugExecutor: Promise<Executor> | undefined;
  private stopped = false;
  private warnedUser = false;

  constructor(
    readonly name: string,
    readonly options: AwsBatchOptions,
    configDir?: string,
  ) {
    this.submissions = new Submissions(
      { name, where: `[executors.${name}]`, service: "AWS Batch" },
      () => this.stopped,
    );
    let scratch = options.s3_scratch.replace(/\/+$/, "");
    if (!isUri(scratch)) {
      if (!options.debug) {
        throw new Error(
          `${this.where}: s3_scratch must be an S3 URI (s3://bucket/prefix), not "${options.s3_scratch}": ` +
            "AWS Batch jobs cannot read a local directory",
        );
      }
      scratch = path.resolve(configDir ?? process.cwd(), scratch);
    }
    this.scratch = scratch;
    this.clients = new AwsClients(this.where);
    this.monitor = new JobMonitor({
      client: (region) => this.clients.batchClient(region),
      intervalMs: options.job_monitor_interval * 1000,
      warn: (message) => log(`executor "${name}": ${message}`),
    });
    this.batcher = new ArrayBatcher<PendingJob>({
      minSize: options.min_array_size,
      maxSize: options.max_array_size,
      staleMs: options.job_stale_time * 1000,
      submit: (_key, plan) => this.submitPlan(plan),
    });
  }

  private get where(): string {
    return `[executors.${this.name}]`;
  }

  /** The remote-protocol settings of this executor. */
  remoteSettings(): RemoteJobSettings {
    return {
      executorName: this.name,
      scratch: this.scratch,
      codePackage: this.options.code_package,
      codeIncludes: this.options.code_includes ?? undefined,
      codeExcludes: this.options.code_excludes ?? undefined,
    };
  }

  /** DescribeJobs calls made so far (one per ≤100 jobs per poll). */
  get describeCalls(): number {
    return this.monitor.describeCalls;
  }

  async submit(job: JobSpec): Promise<unknown> {
    if (this.stopped) throw new Error(`executor "${this.name}" has stopped`);
    const settings = resolveJobSettings(this.options, job.options, job.task.fullname);
    if (this.options.debug) return (await this.debug()).submit(job);
    const reunited = await this.reunite(job);
    if (reunited) return reunited.value;
    const prepared = await prepareRemoteJob(job, this.remoteSettings());
    return new Promise<unknown>((resolve, reject) => {
      const pending: PendingJob = { job, settings, prepared, resolve, reject };
      // Multi-node jobs cannot be array jobs.
      if (settings.numNodes !== undefined) this.submitPlan({ arrays: [], singles: [pending] });
      else this.batcher.add(equivalenceKey(job.task.fullname, settings), pending);
    });
  }

  // ---- reuniting ------------------------------------------------------------------------

  /**
   * The result of a Batch job an earlier scheduler submitted for this very call: its
   * output when it finished (status DONE), else the job's end if it is still queued or
   * running. `undefined` when there is none to reunite with (never submitted, gone, or it
   * had already failed: failures are run again).
   */
  private async reunite(job: JobSpec): Promise<{ value: unknown } | undefined> {
    const record = await readRecord(this.scratch, job.evalHash);
    if (!record) return undefined;
    const paths = jobPaths(this.scratch, job.evalHash);
    const end = { task: job.task.fullname, executorName: this.name };
    if ((await readStatus(paths.status)) === "DONE") {
      try {
        const value = await collectRemoteResult(paths, end);
        log(
          `executor "${this.name}": ${job.task.fullname}: result of AWS Batch job ${record.jobId} (finished earlier)`,
        );
        return { value };
      } catch {
        return undefined; // an unreadable output: run the job again
      }
    }
    let ended;
    try {
      // A job that is gone is not worth waiting several polls for.
      ended = await this.monitor.track(record.jobId, record.region, 1, (detail) => {
        if (detail.status !== "FAILED") {
          log(
            `executor "${this.name}": ${job.task.fullname}: reunited with AWS Batch job ${record.jobId} (${detail.status})`,
          );
        }
      });
    } catch (error) {
      if (error instanceof BatchJobNotFoundError) return undefined;
      throw error;
    }
    if (ended.detail.status === "FAILED" && !ended.seenActive) return undefined;
    return { value: await this.collect(job, ended.detail, paths, record.region) };
  }

  // ---- submission -----------------------------------------------------------------------

  private submitPlan(plan: SubmissionPlan<PendingJob>): void {
    for (const items of plan.arrays) this.submissions.track(this.submitArray(items), items);
    for (const item of plan.singles) this.submissions.track(this.submitSingle(item), [item]);
  }

  /** The ARN of the job role: set, none (`None`), or the account's ecsTaskExecutionRole. */
  private async roleArn(settings: BatchJobSettings, region: string): Promise<string | undefined> {
    if (settings.role === null) return undefined;
    if (settings.role !== undefined) return settings.role;
    try {
      const { arn, account } = await this.clients.identity(region);
      const partition = arn.split(":")[1] || "aws";
      return `arn:${partition}:iam::${account}:role/ecsTaskExecutionRole`;
    } catch (error) {
      throw new Error(
        `${this.where}: cannot tell the AWS account for the default job role ` +
          `(ecsTaskExecutionRole): ${messageOf(error)}; set role (or role = None)`,
      );
    }
  }

  /** The caller for the `redun_aws_user` tag (left out, with one warning, if unknown). */
  private async awsUser(region: string): Promise<string | undefined> {
    try {
      return (await this.clients.identity(region)).arn;
    } catch (error) {
      if (!this.warnedUser) {
        this.warnedUser = true;
        log(`executor "${this.name}": no redun_aws_user tag: ${messageOf(error)}`);
      }
      return undefined;
    }
  }

  /** Job definition, tags and environment of a submission. */
  private async common(
    settings: BatchJobSettings,
    region: string,
    jobName: string,
    context: Omit<TagContext, "awsUser">,
  ): Promise<SubmitCommon> {
    const client = await this.clients.batchClient(region);
    const spec = jobDefSpec(settings, await this.roleArn(settings, region));
    const jobDefinitionArn = await this.jobDefs.arnFor(
      client,
      region,
      spec,
      settings.autocreateJobDef,
      this.where,
    );
    const awsUser = settings.defaultBatchTags ? await this.awsUser(region) : undefined;
    const tags = buildTags(
      settings.batchTags,
      settings.defaultBatchTags,
      { ...context, awsUser },
      this.where,
    );
    return { jobName, jobDefinitionArn, settings, tags, environment: jobEnvironment() };
  }

  /** Submits a request; returns the job id (terminating it at once if we stopped meanwhile). */
  private async send(
    region: string,
    request: import("@aws-sdk/client-batch").SubmitJobCommandInput,
  ): Promise<string> {
    const client = await this.clients.batchClient(region);
    const { SubmitJobCommand } = await import("@aws-sdk/client-batch");
    const { jobId } = await retryThrottled(() => client.send(new SubmitJobCommand(request)));
    if (!jobId) throw new Error("SubmitJob returned no job id");
    if (this.stopped) {
      await this.terminate(region, [jobId]);
      throw new Error(`executor "${this.name}" stopped while the job was being submitted`);
    }
    return jobId;
  }

  private async submitSingle(item: PendingJob): Promise<void> {
    const { job, settings, prepared } = item;
    const region = settings.region ?? "";
    const common = await this.common(
      settings,
      region,
      singleJobName(settings.jobNamePrefix, job.evalHash),
      {
        jobId: job.jobId,
        taskName: job.task.fullname,
        executionId: job.executionId,
        evalHash: job.evalHash,
      },
    );
    const request =
      settings.numNodes !== undefined
        ? multiNodeRequest(common, prepared.command, prepared.paths, settings.numNodes)
        : singleJobRequest(common, prepared.command);
    const jobId = await this.send(region, request);
    await writeRecord(this.scratch, job.evalHash, { jobId, region, queue: settings.queue });
    this.follow(item, jobId, region);
  }

  private async submitArray(items: PendingJob[]): Promise<void> {
    const { settings, job, prepared } = items[0]!;
    const region = settings.region ?? "";
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
    const common = await this.common(
      settings,
      region,
      arrayJobName(settings.jobNamePrefix, arrayId),
      {
        jobId: job.jobId,
        taskName: job.task.fullname,
        executionId: job.executionId,
        arrayId,
      },
    );
    const arrayJobId = await this.send(region, arrayJobRequest(common, command, items.length));
    await Promise.all(
      items.map((item, index) =>
        writeRecord(this.scratch, item.job.evalHash, {
          jobId: `${arrayJobId}:${index}`,
          region,
          queue: settings.queue,
          arrayJobId,
          index,
        }),
      ),
    );
    items.forEach((item, index) => this.follow(item, `${arrayJobId}:${index}`, region));
  }

  /** Waits for a submitted job through the monitor, then settles its call. */
  private follow(item: PendingJob, batchJobId: string, region: string): void {
    this.monitor
      .track(batchJobId, region)
      .then(({ detail }) => this.collect(item.job, detail, item.prepared.paths, region))
      .then(item.resolve, item.reject);
  }

  /** The result of an ended Batch job: its output, or its error with the log tail. */
  private async collect(
    job: JobSpec,
    detail: JobDetail,
    paths: JobPaths,
    region: string,
  ): Promise<unknown> {
    const exitCode = detail.container?.exitCode ?? undefined;
    const end = { task: job.task.fullname, executorName: this.name, exitCode };
    if (detail.status === "SUCCEEDED") return collectRemoteResult(paths, end);
    const lines = await readLogTail(await this.clients.logsClient(region), detail, LOG_TAIL_LINES);
    const reason = detail.statusReason ?? detail.container?.reason;
    return collectRemoteResult(paths, {
      ...end,
      log: lines?.join("\n"),
      tailLines: LOG_TAIL_LINES,
      hint: `AWS Batch job ${detail.jobId} failed${reason ? ` (${reason})` : ""}`,
    });
  }

  // ---- debug and stop -------------------------------------------------------------------

  /**
   * `debug = true`: the same container, run locally by the docker executor (found through
   * the registry, as a `type = docker` section would be: executor types do not import each
   * other).
   */
  private debug(): Promise<Executor> {
    return (this.debugExecutor ??= (async () => {
      await loadExecutorType("docker");
      const factory = executorFactory("docker");
      if (!factory) throw new Error(`${this.where}: debug = true needs the docker executor type`);
      const options: Record<string, unknown> = {
        image: this.options.image,
        scratch: this.scratch,
        vcpus: this.options.vcpus,
        gpus: this.options.gpus,
        memory: this.options.memory,
        interactive: false,
        // The job sees the network the scheduler sees (S3 endpoints, local servers).
        network: "host",
        code_package: this.options.code_package,
      };
      if (this.options.code_includes) options.code_includes = this.options.code_includes;
      if (this.options.code_excludes) options.code_excludes = this.options.code_excludes;
      return factory(this.name, options, {
        getExecutor: (name) => {
          throw new Error(`${this.where}: the debug executor cannot reach executor "${name}"`);
        },
      });
    })());
  }

  /** Terminates Batch jobs (array children through their array job). */
  private async terminate(region: string, ids: readonly string[]): Promise<void> {
    const client = await this.clients.batchClient(region);
    const { TerminateJobCommand } = await import("@aws-sdk/client-batch");
    const parents = [...new Set(ids.map((id) => id.split(":")[0]!))];
    await Promise.all(
      parents.map((jobId) =>
        retryThrottled(() =>
          client.send(
            new TerminateJobCommand({ jobId, reason: "cancelled by redun: the scheduler stopped" }),
          ),
        ).catch((error) =>
          log(
            `executor "${this.name}": cannot terminate AWS Batch job ${jobId}: ${messageOf(error)}`,
          ),
        ),
      ),
    );
  }

  /**
   * Cancels: jobs not yet submitted are dropped, submitted jobs still queued or running
   * are terminated, and their calls abandoned (the executor contract). A scheduler that
   * dies without stopping leaves them running; started again, it reunites with them.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.batcher.clear();
    await this.submissions.settled();
    const byRegion = new Map<string, string[]>();
    for (const { id, region } of this.monitor.tracked()) {
      byRegion.set(region, [...(byRegion.get(region) ?? []), id]);
    }
    if (byRegion.size > 0) {
      const count = [...byRegion.values()].reduce((n, ids) => n + ids.length, 0);
      log(`executor "${this.name}": terminating ${count} AWS Batch job(s)`);
      await Promise.all([...byRegion].map(([region, ids]) => this.terminate(region, ids)));
    }
    this.monitor.stop();
    await (await this.debugExecutor?.catch(() => undefined))?.stop();
    await this.clients.close();
  }
}

/** Parses an executor's options. */
export function awsBatchExecutorOptions(
  name: string,
  raw: Readonly<Record<string, unknown>>,
): AwsBatchOptions {
  return parseExecutorOptions(
    "aws_batch",
    name,
    raw,
    AWS_BATCH_SCHEMA,
  ) as unknown as AwsBatchOptions;
}

/** Creates an AWS Batch executor from its `[executors.NAME]` options (registered as `aws_batch`). */
export const createAwsBatchExecutor: ExecutorFactory = (name, raw, context) =>
  new AwsBatchExecutor(name, awsBatchExecutorOptions(name, raw), context.configDir);
