/**
 * The scheduler: owns the backend, executors and limits, and runs executions.
 */
import { randomUUID } from "node:crypto";
import type { CallTaskOptions } from "../api/options.ts";
import type { Resolved } from "../api/types.ts";
import { flushWarnings } from "../api/warnings.ts";
import { Backend, type BackendOptions } from "../backend/backend.ts";
import { backendOptionsFromConfig } from "../backend/from-config.ts";
import {
  executorFactory,
  executorTypePending,
  executorTypes,
  isExecutorType,
  loadExecutorType,
  type Executor,
  type ExecutorContext,
} from "../executors/executor.ts";
import { BUILTIN_EXECUTORS, type Config, type LogLevel } from "../config/config.ts";
import { parseExecutorOptions } from "../executors/parse-options.ts";
import { Execution, type DryRunEntry } from "./execution.ts";
import { DryRunMiss } from "./failure.ts";
import { mergeContext, type JobContext } from "../api/job-context.ts";
import { Interruption } from "./interrupt.ts";
import { LimitPool } from "./limits.ts";
import { JobStatusTable } from "./status.ts";
import { JobLog } from "./job-log.ts";
import { defaultExecutionTags, tagPairs } from "./execution-tags.ts";
import { TaskExpression } from "../api/task.ts";
import { RedunError } from "../values/errors.ts";
import { registerErrorClass } from "../values/serialize.ts";

/** Scheduler options that a configuration implies. */
function optionsFromConfig(config: Config | undefined): SchedulerOptions {
  if (!config) return {};
  const backend = config.backend;
  return {
    backendOptions: backendOptionsFromConfig(backend),
    executorConfigs: config.executors,
    limits: config.limits,
    jobStatusInterval: config.scheduler.jobStatusInterval,
    callLeaseSeconds: config.scheduler.callLease,
    ignoreWarnings: config.scheduler.ignoreWarnings,
    logLevel: config.scheduler.logLevel,
    tags: config.tags,
    context: config.scheduler.context,
    configDir: config.configDir,
  };
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

function unknownExecutorType(name: string, type: string): Error {
  return new Error(
    `[executors.${name}]: unknown executor type "${type}" (known: ${executorTypes().join(", ")})`,
  );
}

/** How to build a scheduler. */
export interface SchedulerOptions {
  /**
   * A loaded configuration (`redun.ini`): backend, executors, limits and scheduler
   * options come from it unless given explicitly below.
   */
  config?: Config;
  /** An open backend; otherwise one is opened from `backendOptions` on first use. */
  backend?: Backend;
  /** Where provenance goes; default an in-memory SQLite database. */
  backendOptions?: BackendOptions;
  /** Executors by name (added to those from configuration). */
  executors?: Record<string, Executor>;
  /**
   * Executor definitions by name, as in `[executors.NAME]` sections: `{ type, ...options }`.
   */
  executorConfigs?: Record<string, { type: string; options: Record<string, unknown> }>;
  /** Named limits, as in `[limits]`. */
  limits?: Record<string, number>;
  /** Seconds between job status tables (0 or less: only at the end). Default 20. */
  jobStatusInterval?: number;
  /**
   * Seconds a claim on a running call lasts unless renewed (`[scheduler] call_lease`,
   * default 20): another scheduler sharing the database takes over a dead one's calls after it.
   */
  callLeaseSeconds?: number;
  /** Warnings to silence (`[scheduler] ignore_warnings`), e.g. `["namespace"]`. */
  ignoreWarnings?: Iterable<string>;
  /** The configuration directory, for resolving relative executor paths. */
  configDir?: string;
  /** The context every run starts with (`[scheduler] context` or `context_file`). */
  context?: Record<string, unknown>;
  /** Where the scheduler writes its messages; default standard error. */
  log?: (text: string) => void;
  /**
   * How much a run prints (`[scheduler] log_level`): `DEBUG` (job lines with their hashes),
   * `INFO` (default: a line per job and job tables), `WARNING` (failures, retries and
   * warnings), `ERROR` (nothing but errors).
   */
  logLevel?: LogLevel;
  /** Tags every execution gets (`[tags]`), besides redun's own (see {@link RunOptions.tags}). */
  tags?: Record<string, unknown>;
}

/** How one run should behave. */
export interface RunOptions {
  /** `false` replays nothing from earlier executions (`redun run --no-cache`). */
  cache?: boolean;
  /** Look up the cache, run nothing, and report what would run. */
  dryrun?: boolean;
  /** The execution's id (default a new UUID). */
  executionId?: string;
  /** Recorded as the execution's arguments (e.g. the command line). */
  description?: string[];
  /** Options for the root call (`redun run -o key=value`). */
  options?: CallTaskOptions;
  /**
   * Context for this run, merged deeply over the scheduler's (`redun run --context`); tasks
   * read it with `getContext`.
   */
  context?: Record<string, unknown>;
  /** `false` records nothing (`redun run --no-prov`), so nothing is cached beyond CSE. */
  prov?: boolean;
  /**
   * Tags for the execution (`redun run --tag k=v`), over the scheduler's (`[tags]`) and
   * redun's own: `redun.version`, `user`, `project` (the root task's namespace), and in a git
   * repository `git_commit` and `git_origin_url`.
   */
  tags?: Record<string, unknown>;
}

/** What each dry-run reason means, as the dry run says it. */
const REASON_TEXT: Record<string, string> = {
  "new task": "the task's code changed since it ran with these arguments",
  "new args": "new argument values (a changed file among them) for code that ran before",
  "new call": "never run before with this code or these arguments",
};

/** Thrown by a dry run: the jobs that would have to run, and why each misses the cache. */
export class DryRunResult extends RedunError {
  override name = "DryRunResult";
  override get code() {
    return "REDUN_DRY_RUN" as const;
  }
  /** The calls that would run, e.g. `acme.add(1, 2)`. */
  readonly wouldRun: string[];
  /** For each call, why it misses the cache: `new task`, `new args` or `new call`. */
  readonly reasons: string[];
  constructor(entries: readonly DryRunEntry[]) {
    super(
      `${entries.length} job(s) would run:\n` +
        entries.map((e) => `  ${e.call}  (${e.reason}: ${REASON_TEXT[e.reason] ?? ""})`).join("\n"),
    );
    this.wouldRun = entries.map((e) => e.call);
    this.reasons = entries.map((e) => e.reason);
  }
}
registerErrorClass(DryRunResult);

/**
 * Runs workflows.
 *
 * @example
 * const scheduler = new Scheduler({ backendOptions: { dbUri: "sqlite:///redun.db", sqlitePath: "redun.db" } });
 * const result = await scheduler.run(main(10)); // typed as main's result
 * await scheduler.close();
 */
export class Scheduler {
  private backendPromise: Promise<Backend> | undefined;
  private readonly executors = new Map<string, Executor>();
  private readonly limits: LimitPool;
  private readonly ignoreWarnings: Set<string>;
  /** The run's messages, by level. */
  private readonly output: JobLog;
  private jobStatusInterval: number;
  /** The status table of the latest run. */
  status = new JobStatusTable();
  /** Interruption of the run in progress, or the next one (see {@link Scheduler.interrupt}). */
  private interruption = new Interruption();

  private readonly options: SchedulerOptions;

  constructor(options: SchedulerOptions = {}) {
    options = { ...optionsFromConfig(options.config), ...definedOnly(options) };
    this.options = options;
    this.output = new JobLog(
      options.log ?? ((text) => process.stderr.write(text)),
      options.logLevel ?? "INFO",
    );
    this.limits = new LimitPool(options.limits ?? {});
    this.ignoreWarnings = new Set(options.ignoreWarnings ?? []);
    this.jobStatusInterval = options.jobStatusInterval ?? 20;
    if (options.backend) this.backendPromise = Promise.resolve(options.backend);
    for (const [name, { type, options: raw }] of Object.entries(options.executorConfigs ?? {})) {
      // Checked now so that a bad section fails before anything runs (a built-in type not
      // loaded yet: when run() loads it); built on first use.
      if (!isExecutorType(type)) throw unknownExecutorType(name, type);
      if (!executorTypePending(type)) parseExecutorOptions(type, name, raw);
    }
    for (const [name, executor] of Object.entries(options.executors ?? {}))
      this.executors.set(name, executor);
  }

  /**
   * Sends the scheduler's messages (job lines, job tables, warnings) to a function from now
   * on, e.g. a live progress display.
   * @param options.statusTables - `false`: no job table while a run goes (only at its end).
   */
  setOutput(write: (text: string) => void, options: { statusTables?: boolean } = {}): void {
    this.output.redirect(write);
    if (options.statusTables === false) this.jobStatusInterval = 0;
  }

  /** Shows messages of this level and above from now on (`redun run --log-level`). */
  setLogLevel(level: LogLevel): void {
    this.output.setLevel(level);
  }

  /** Adds (or replaces) an executor under a name. */
  addExecutor(name: string, executor: Executor): void {
    this.executors.set(name, executor);
  }

  private createExecutor(name: string, type: string, options: Record<string, unknown>): Executor {
    const factory = executorFactory(type);
    if (!factory) {
      throw new Error(
        `[executors.${name}]: unknown executor type "${type}" (known: ${executorTypes().join(", ")})`,
      );
    }
    const context: ExecutorContext = {
      getExecutor: (n) => this.getExecutor(n),
      configDir: this.options.configDir,
    };
    return factory(name, options, context);
  }

  /**
   * The executor with this name. Unless configured, `default` is a local thread pool and
   * `process` a local process pool ({@link BUILTIN_EXECUTORS}).
   */
  getExecutor(name: string): Executor {
    let executor = this.executors.get(name);
    if (!executor) {
      const config =
        this.options.executorConfigs?.[name] ??
        (Object.hasOwn(BUILTIN_EXECUTORS, name) ? BUILTIN_EXECUTORS[name] : undefined);
      if (config) {
        executor = this.createExecutor(name, config.type, config.options);
        this.executors.set(name, executor);
      }
    }
    if (!executor) {
      throw new Error(
        `executor "${name}" is not defined: add an [executors.${name}] section to redun.ini`,
      );
    }
    return executor;
  }

  /**
   * Loads the executor types the configured executors name (and `local`, for the default
   * ones), checking the options of those not checked on construction.
   */
  private async loadExecutorTypes(): Promise<void> {
    const configs = Object.entries(this.options.executorConfigs ?? {});
    const types = new Set([
      ...configs.map(([, config]) => config.type),
      ...Object.values(BUILTIN_EXECUTORS).map((config) => config.type),
    ]);
    const unloaded = configs.filter(([, { type }]) => executorTypePending(type));
    if (![...types].some(executorTypePending)) return;
    await Promise.all([...types].map(loadExecutorType));
    for (const [name, { type, options: raw }] of unloaded) parseExecutorOptions(type, name, raw);
  }

  /** The provenance backend (opened on first use). */
  backend(): Promise<Backend> {
    return (this.backendPromise ??= Backend.open(this.options.backendOptions));
  }

  /**
   * Evaluates an expression (or any value containing expressions) and returns its value.
   * @throws the task's error when a job fails (after the jobs still running finish);
   *   {@link DryRunResult} from a dry run that would have to run jobs.
   */
  async run<T>(expr: T, options: RunOptions = {}): Promise<Resolved<T>> {
    await this.loadExecutorTypes();
    const warn = (text: string) => this.output.message("WARNING", text);
    flushWarnings(this.ignoreWarnings, warn);
    const backend = await this.backend();
    this.status = new JobStatusTable();
    // An interruption requested before the run started (while it loaded) applies to it.
    const interruption = this.interruption;
    const executionId = options.executionId ?? randomUUID();
    const execution = new Execution(
      {
        id: executionId,
        cache: options.cache ?? true,
        dryrun: options.dryrun ?? false,
        rootOptions: options.options ?? {},
        context: mergeContext((this.options.context ?? {}) as JobContext, options.context),
        prov: options.prov ?? true,
        tags: tagPairs({
          ...defaultExecutionTags(expr instanceof TaskExpression ? expr.task.namespace : undefined),
          ...this.options.tags,
          ...options.tags,
        }),
        callLeaseMs:
          this.options.callLeaseSeconds === undefined
            ? undefined
            : this.options.callLeaseSeconds * 1000,
      },
      {
        backend,
        config: this.options.config,
        limits: this.limits,
        status: this.status,
        getExecutor: (name) => this.getExecutor(name),
        log: warn,
        jobLog: this.output,
        waitForRoom: () => backend.waitForRoom(),
        interruption,
      },
    );
    const recordExecution = () =>
      backend.recordExecution({
        id: executionId,
        args: JSON.stringify(options.description ?? []),
        job_id: execution.rootJobId ?? null,
        updated_time: new Date().toISOString(),
      });
    if (!options.dryrun) recordExecution();
    this.output.startExecution(executionId, options.description);
    const timer =
      this.jobStatusInterval > 0
        ? setInterval(
            () => this.output.message("INFO", this.status.format()),
            this.jobStatusInterval * 1000,
          )
        : undefined;
    timer?.unref();
    try {
      const result = await execution.run(expr);
      return result as Resolved<T>;
    } catch (error) {
      if (options.dryrun && error instanceof DryRunMiss)
        throw new DryRunResult(execution.dryrunMisses);
      throw error;
    } finally {
      interruption.dispose();
      if (this.interruption === interruption) this.interruption = new Interruption();
      clearInterval(timer);
      if (!options.dryrun) recordExecution();
      await backend.flush();
      this.output.message("INFO", this.status.format(options.dryrun ? "Dry run" : "Jobs"));
      this.output.flush();
    }
  }

  /**
   * Interrupts the run in progress, or else the next one (what `redun run` does on Ctrl-C
   * or SIGTERM): no new job starts; running jobs may finish for a few seconds, then (or at
   * a second call) they are abandoned. Jobs that did not finish are recorded INTERRUPTED,
   * and `run()` rejects with an `InterruptedError`. Call {@link close} afterwards to stop
   * the workers.
   *
   * @param signal - what interrupted the run, for messages (e.g. `"SIGINT"`).
   * @returns `"graceful"` for the first call, `"forced"` for later ones.
   */
  interrupt(signal = "interrupt"): "graceful" | "forced" {
    return this.interruption.request(signal);
  }

  /** Flushes provenance, stops executors and closes the database. */
  async close(): Promise<void> {
    await Promise.all([...this.executors.values()].map((e) => e.stop()));
    if (this.backendPromise) await (await this.backendPromise).close();
  }
}
