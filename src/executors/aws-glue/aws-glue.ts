/**
 * The AWS Glue executor (`type = aws_glue`): runs each job as a run of a Glue job through
 * the remote job protocol (src/executors/remote/): the call is written to `s3_scratch`, the
 * Glue job's launcher script (./launcher-script.ts) fetches a Node runtime and the redun
 * runtime (./glue-runtime.ts) and runs oneshot in the Glue driver, and the output or error
 * is read back from scratch. `sparkScript()` calls (src/files/spark-script.ts) run their PySpark
 * source in the driver instead.
 *
 * - Job definitions are found or created per script/role/worker type/Glue version
 *   (./glue-job-def.ts); each run gives its worker count, timeout and arguments.
 * - StartJobRun refused for capacity is tried again every `job_retry_interval`, five
 *   attempts in all.
 * - One monitor loop polls GetJobRun (./glue-monitor.ts); a failed run's error gets Glue's
 *   state and message and the last lines of its CloudWatch logs (./glue-logs.ts).
 * - A scheduler started again reunites with the runs of an earlier one (./glue-record.ts).
 * - `stop()` (the scheduler was interrupted) stops the runs still going (BatchStopJobRun).
 */
import type { JobRun, StartJobRunCommandInput } from "@aws-sdk/client-glue";
import { isUri } from "../../files/filesystem.ts";
import type { Executor, ExecutorFactory, JobSpec } from "../executor.ts";
import { parseExecutorOptions } from "../parse-options.ts";
import {
  collectRemoteResult,
  prepareRemoteJob,
  type RemoteJobSettings,
} from "../remote/remote-job.ts";
import {
  clearJobResult,
  jobPaths,
  readStatus,
  writeScratchJson,
  type JobPaths,
} from "../remote/scratch.ts";
import { retryThrottled } from "../aws/backoff.ts";
import { jobEnvironment } from "../aws-batch/submit-job.ts";
import { GlueClients } from "./glue-clients.ts";
import { GlueJobDefinitions, type GlueJobDefSpec } from "./glue-job-def.ts";
import { readGlueLogTail } from "./glue-logs.ts";
import { GlueMonitor, GlueRunNotFoundError } from "./glue-monitor.ts";
import { readGlueRecord, writeGlueRecord } from "./glue-record.ts";
import { uploadLauncher, uploadNodeRuntime, uploadRedunRuntime } from "./glue-runtime.ts";
import { AWS_GLUE_SCHEMA, type AwsGlueOptions } from "./glue-schema.ts";
import { SPARK_SCRIPT_TASK, sparkPaths } from "../../files/spark-script.ts";
import { log } from "../remote/executor-log.ts";

/** Lines of CloudWatch log added to a failed run's error. */
const LOG_TAIL_LINES = 50;
/** StartJobRun attempts when Glue lacks capacity (the document's "five attempts"). */
const START_ATTEMPTS = 5;
/** Glue's answers that mean "not now": retried after `job_retry_interval`. */
const CAPACITY_ERRORS = new Set([
  "ConcurrentRunsExceededException",
  "ResourceNumberLimitExceededException",
]);

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // One line: an HTTP error page or a stack says nothing more.
  return (message.split("\n").find((l) => l.trim()) ?? message).slice(0, 300);
}

/** A call's settings after task options. */
interface GlueRunSettings {
  workers: number;
  workerType: string;
  /** Minutes. */
  timeout: number;
  role: string | undefined;
}

/** Runs jobs on AWS Glue. */
export class AwsGlueExecutor implements Executor {
  /** The scratch root (`s3://…`), without a trailing slash. */
  readonly scratch: string;
  private readonly region: string;
  private readonly clients: GlueClients;
  private readonly jobDefs = new GlueJobDefinitions();
  private readonly monitor: GlueMonitor;
  private readonly packageCache: RemoteJobSettings["packageCache"] = new Map();
  private runtimes: Promise<{ launcher: string; node: string; redun: string }> | undefined;
  private launcher: Promise<string> | undefined;
  private readonly starting = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(
    readonly name: string,
    readonly options: AwsGlueOptions,
    private readonly configDir?: string,
  ) {
    const scratch = options.s3_scratch.replace(/\/+$/, "");
    if (!isUri(scratch) || !scratch.startsWith("s3://")) {
      throw new Error(
        `${this.where}: s3_scratch must be an S3 URI (s3://bucket/prefix), not "${options.s3_scratch}": ` +
          "AWS Glue jobs cannot read a local directory",
      );
    }
    this.scratch = scratch;
    this.region = options.aws_region ?? "";
    this.clients = new GlueClients(this.where);
    this.monitor = new GlueMonitor({
      client: (region) => this.clients.glueClient(region),
      intervalMs: options.job_monitor_interval * 1000,
      warn: (message) => log(`executor "${name}": ${message}`),
    });
  }

  private get where(): string {
    return `[executors.${this.name}]`;
  }

  /** The remote-protocol settings of this executor. */
  private remoteSettings(): RemoteJobSettings {
    return {
      executorName: this.name,
      scratch: this.scratch,
      codePackage: this.options.code_package,
      codeIncludes: this.options.code_includes ?? undefined,
      codeExcludes: this.options.code_excludes ?? undefined,
      packageCache: this.packageCache,
    };
  }

  private settings(job: JobSpec): GlueRunSettings {
    const o = job.options;
    const workerType = (o.workerType as string | undefined) ?? this.options.worker_type;
    const allowed = AWS_GLUE_SCHEMA.worker_type.choices;
    if (!allowed.includes(workerType as (typeof allowed)[number])) {
      throw new Error(
        `task "${job.task.fullname}": workerType "${workerType}" is not one of ${allowed.join(", ")}`,
      );
    }
    const role = o.role === undefined || o.role === null || o.role === "None" ? undefined : o.role;
    return {
      workers: (o.workers as number | undefined) ?? this.options.workers,
      workerType,
      timeout: Math.max(1, Math.round((o.timeout as number | undefined) ?? this.options.timeout)),
      role: (role as string | undefined) ?? this.options.role ?? undefined,
    };
  }

  async submit(job: JobSpec): Promise<unknown> {
    if (this.stopped) throw new Error(`executor "${this.name}" has stopped`);
    const settings = this.settings(job);
    const spark = job.task.fullname === SPARK_SCRIPT_TASK;
    const reunited = await this.reunite(job);
    if (reunited) return reunited.value;
    const paths = jobPaths(this.scratch, job.evalHash);
    const args: Record<string, string> = {
      "--input": paths.input,
      "--redun-mode": spark ? "spark" : "task",
      "--redun-workers": String(settings.workers),
      "--redun-worker-type": settings.workerType,
      "--enable-spark-ui": "true",
      "--spark-event-logs-path": this.options.spark_history_dir,
    };
    const env = Object.fromEntries(jobEnvironment().map(({ name, value }) => [name, value]));
    if (Object.keys(env).length > 0) args["--redun-env"] = JSON.stringify(env);
    let launcher: string;
    if (spark) {
      await this.writeSparkInput(job, paths);
      launcher = await (this.launcher ??= uploadLauncher(this.scratch));
    } else {
      const prepared = await prepareRemoteJob(job, this.remoteSettings());
      const runtimes = await this.ensureRuntimes();
      launcher = runtimes.launcher;
      args["--node-runtime"] = runtimes.node;
      args["--redun-runtime"] = runtimes.redun;
      if (prepared.codeUri) args["--code"] = prepared.codeUri;
    }
    const region = this.region;
    const client = await this.clients.glueClient(region);
    const jobName = await this.jobDefs.ensure(
      client,
      region,
      this.options.glue_job_prefix,
      await this.jobDefSpec(launcher, settings),
      this.where,
    );
    const runId = await this.start(job, {
      JobName: jobName,
      Arguments: args,
      WorkerType: settings.workerType as StartJobRunCommandInput["WorkerType"],
      NumberOfWorkers: settings.workers,
      Timeout: settings.timeout,
    });
    await writeGlueRecord(this.scratch, job.evalHash, { jobName, runId, region });
    const { run } = await this.monitor.track(jobName, runId, region);
    return this.collect(job, run, paths, region);
  }

  /** The launcher, Node runtime and redun runtime, stored once per executor. */
  private ensureRuntimes(): Promise<{ launcher: string; node: string; redun: string }> {
    this.runtimes ??= (async () => {
      const [launcher, node, redun] = await Promise.all([
        (this.launcher ??= uploadLauncher(this.scratch)),
        uploadNodeRuntime(
          this.scratch,
          this.options.node_runtime ?? undefined,
          this.where,
          this.configDir,
        ),
        uploadRedunRuntime(this.scratch),
      ]);
      return { launcher, node, redun };
    })();
    this.runtimes.catch(() => (this.runtimes = undefined));
    return this.runtimes;
  }

  /** A `sparkScript()` call's input: its source and its inputs/outputs as S3 paths. */
  private async writeSparkInput(job: JobSpec, paths: JobPaths): Promise<void> {
    const [source, inputs, outputs] = job.args as [string, unknown, unknown];
    await clearJobResult(paths);
    await writeScratchJson(paths.input, {
      version: 1,
      kind: "spark",
      task: job.task.fullname,
      source,
      inputs: sparkPaths(inputs, "input"),
      outputs: sparkPaths(outputs, "output"),
    });
  }

  /** The job definition of a call: the role defaults to the account's AWSGlueServiceRole. */
  private async jobDefSpec(launcher: string, settings: GlueRunSettings): Promise<GlueJobDefSpec> {
    let role = settings.role;
    if (role === undefined) {
      try {
        const { arn, account } = await this.clients.identity(this.region);
        role = `arn:${arn.split(":")[1] || "aws"}:iam::${account}:role/AWSGlueServiceRole`;
      } catch (error) {
        throw new Error(
          `${this.where}: cannot tell the AWS account for the default role ` +
            `(AWSGlueServiceRole): ${messageOf(error)}; set role`,
        );
      }
    }
    return {
      scriptLocation: launcher,
      role,
      workerType: settings.workerType,
      glueVersion: this.options.glue_version,
      defaultArguments: { "--job-language": "python" },
    };
  }

  /**
   * StartJobRun, tried again every `job_retry_interval` while Glue lacks capacity (five
   * attempts in all); returns the run id.
   */
  private async start(job: JobSpec, request: StartJobRunCommandInput): Promise<string> {
    const client = await this.clients.glueClient(this.region);
    const { StartJobRunCommand } = await import("@aws-sdk/client-glue");
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) throw new Error(`executor "${this.name}" has stopped`);
      try {
        const sent = retryThrottled(() => client.send(new StartJobRunCommand(request)));
        this.starting.add(sent);
        const { JobRunId } = await sent.finally(() => this.starting.delete(sent));
        if (!JobRunId) throw new Error("StartJobRun returned no run id");
        if (this.stopped) await this.stopRuns(request.JobName!, [JobRunId]);
        return JobRunId;
      } catch (error) {
        const name = (error as { name?: string }).name ?? "";
        if (!CAPACITY_ERRORS.has(name)) {
          throw new Error(
            `task "${job.task.fullname}" on executor "${this.name}": AWS Glue StartJobRun failed: ${messageOf(error)}`,
          );
        }
        if (attempt >= START_ATTEMPTS) {
          throw new Error(
            `task "${job.task.fullname}" on executor "${this.name}": AWS Glue refused to start ` +
              `job ${request.JobName} ${START_ATTEMPTS} times for lack of capacity ` +
              `(${name}: ${messageOf(error)}), retrying every ${this.options.job_retry_interval} s`,
          );
        }
        log(
          `executor "${this.name}": ${job.task.fullname}: AWS Glue lacks capacity (${name}); ` +
            `attempt ${attempt + 1} of ${START_ATTEMPTS} in ${this.options.job_retry_interval} s`,
        );
        await new Promise((r) => setTimeout(r, this.options.job_retry_interval * 1000));
      }
    }
  }

  /**
   * The result of a run an earlier scheduler started for this very call: its output when it
   * finished, else the run's end if it is still going. `undefined`: nothing to reunite with.
   */
  private async reunite(job: JobSpec): Promise<{ value: unknown } | undefined> {
    const record = await readGlueRecord(this.scratch, job.evalHash);
    if (!record) return undefined;
    const paths = jobPaths(this.scratch, job.evalHash);
    const end = { task: job.task.fullname, executorName: this.name };
    if ((await readStatus(paths.status)) === "DONE") {
      try {
        const value = await collectRemoteResult(paths, end);
        log(
          `executor "${this.name}": ${job.task.fullname}: result of AWS Glue job run ${record.runId} (finished earlier)`,
        );
        return { value };
      } catch {
        return undefined; // unreadable: run it again
      }
    }
    let ended;
    try {
      ended = await this.monitor.track(record.jobName, record.runId, record.region, (run) => {
        if (run.JobRunState === "RUNNING" || run.JobRunState === "STARTING") {
          log(
            `executor "${this.name}": ${job.task.fullname}: reunited with AWS Glue job run ${record.runId} (${run.JobRunState})`,
          );
        }
      });
    } catch (error) {
      if (error instanceof GlueRunNotFoundError) return undefined;
      throw error;
    }
    if (ended.run.JobRunState !== "SUCCEEDED" && !ended.seenActive) return undefined;
    return { value: await this.collect(job, ended.run, paths, record.region) };
  }

  /** The result of an ended run: its output, or its error with Glue's account of the end. */
  private async collect(
    job: JobSpec,
    run: JobRun,
    paths: JobPaths,
    region: string,
  ): Promise<unknown> {
    const end = { task: job.task.fullname, executorName: this.name };
    const value = await (async () => {
      if (run.JobRunState === "SUCCEEDED") return collectRemoteResult(paths, end);
      const logs = await readGlueLogTail(
        await this.clients.logsClient(region),
        run.Id ?? "",
        LOG_TAIL_LINES,
      );
      return collectRemoteResult(paths, {
        ...end,
        ...(logs ? { log: logs } : {}),
        tailLines: LOG_TAIL_LINES,
        hint:
          `AWS Glue job run ${run.Id} of job ${run.JobName} ended ${run.JobRunState}` +
          (run.ErrorMessage ? ` (${run.ErrorMessage})` : ""),
      });
    })();
    // A sparkScript() source that sets no `result` returns its outputs.
    if (value === undefined && job.task.fullname === SPARK_SCRIPT_TASK) return job.args[2];
    return value;
  }

  /** BatchStopJobRun for runs of one job; a refusal is one line on standard error. */
  private async stopRuns(jobName: string, runIds: string[]): Promise<void> {
    try {
      const client = await this.clients.glueClient(this.region);
      const { BatchStopJobRunCommand } = await import("@aws-sdk/client-glue");
      for (let i = 0; i < runIds.length; i += 25) {
        const { Errors = [] } = await retryThrottled(() =>
          client.send(
            new BatchStopJobRunCommand({ JobName: jobName, JobRunIds: runIds.slice(i, i + 25) }),
          ),
        );
        for (const e of Errors) {
          log(
            `executor "${this.name}": cannot stop AWS Glue job run ${e.JobRunId}: ${e.ErrorDetail?.ErrorMessage ?? e.ErrorDetail?.ErrorCode}`,
          );
        }
      }
    } catch (error) {
      log(
        `executor "${this.name}": cannot stop AWS Glue job run(s) ${runIds.join(", ")} of job ${jobName}: ` +
          messageOf(error),
      );
    }
  }

  /**
   * Cancels: runs still going are stopped and their calls abandoned (the executor
   * contract). A scheduler that dies without stopping leaves them running; started again,
   * it reunites with them.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([...this.starting].map((p) => p.catch(() => undefined)));
    const byJob = new Map<string, string[]>();
    for (const { jobName, runId } of this.monitor.tracked()) {
      byJob.set(jobName, [...(byJob.get(jobName) ?? []), runId]);
    }
    this.monitor.stop();
    if (byJob.size > 0) {
      const count = [...byJob.values()].reduce((n, ids) => n + ids.length, 0);
      log(`executor "${this.name}": stopping ${count} AWS Glue job run(s)`);
      await Promise.all([...byJob].map(([jobName, ids]) => this.stopRuns(jobName, ids)));
    }
    await this.clients.close();
  }
}

/** Parses an executor's options. */
export function awsGlueExecutorOptions(
  name: string,
  raw: Readonly<Record<string, unknown>>,
): AwsGlueOptions {
  return parseExecutorOptions("aws_glue", name, raw, AWS_GLUE_SCHEMA) as unknown as AwsGlueOptions;
}

/** Creates an AWS Glue executor from its `[executors.NAME]` options (registered as `aws_glue`). */
export const createAwsGlueExecutor: ExecutorFactory = (name, raw, context) =>
  new AwsGlueExecutor(name, awsGlueExecutorOptions(name, raw), context.configDir);
