/**
 * The local executor (`type = local`): runs tasks on this machine.
 *
 * - `mode = thread` (default): a pool of worker threads. Workers import the module that
 *   defines each task and run it there; arguments and results cross as serialized values.
 * - `mode = process`: the same with child processes (full isolation, separate heaps).
 * - `mode = inline`: on the scheduler's own thread and event loop. For async, I/O-bound
 *   tasks (HTTP calls, database queries) and tasks whose values cannot be serialized, and
 *   for tasks defined where a worker cannot import them (a REPL, a test file).
 *
 * `start_method` is accepted for compatibility with Python redun; Node has no fork(), so
 * every method starts a fresh worker that imports the workflow module (like `spawn`).
 *
 * Limits (task options, with defaults from the executor's `timeout` and `max_memory`):
 * `timeout` seconds stop a job in every mode (thread: its worker is terminated and
 * replaced; process: killed and replaced; inline: its `currentSignal()` is aborted and the
 * job fails at once); `maxMemory` GiB is the JavaScript heap limit of thread and process
 * workers (workers with different limits are kept in separate pools).
 */
import { decodeValue, encodeValue, type Wire } from "../../values/serialize.ts";
import type { Executor, ExecutorFactory, JobSpec } from "../executor.ts";
import { importTaskModules } from "../modules.ts";
import { runTask } from "../run-task.ts";
import { WorkerPool } from "./pool.ts";
import { parseExecutorOptions } from "../parse-options.ts";
import { LOCAL_SCHEMA } from "./local-schema.ts";
import { Slots } from "../slots.ts";
import { heapLimitMb, MemoryLimitError, TimeoutError } from "./limit-errors.ts";

/** Options of a local executor. */
export interface LocalExecutorOptions {
  mode: "thread" | "process" | "inline";
  max_workers: number;
  start_method: "fork" | "spawn" | "forkserver";
  /** Default `timeout` of its tasks, in seconds (`null`, absent or 0: none). */
  timeout?: number | null;
  /** Default `maxMemory` of its tasks, in GiB (`null`, absent or 0: none). */
  max_memory?: number | null;
}

/** A limit as given (option or executor default), or `undefined` for none. */
function limit(value: unknown, fallback: number | null | undefined): number | undefined {
  const chosen = value ?? fallback;
  return typeof chosen === "number" && chosen > 0 ? chosen : undefined;
}

/**
 * Task options for a worker (`hashIncludes` only matters to the task hash, which the
 * scheduler has computed; it may hold values not worth sending).
 */
function encodeOptions(options: Readonly<Record<string, unknown>>): Wire | undefined {
  const { hashIncludes: _hashIncludes, ...rest } = options;
  return Object.keys(rest).length > 0 ? encodeValue(rest, "task options") : undefined;
}

/** Pools started before their executor exists (see {@link prestartLocalPool}), by mode and size. */
const prestartedPools = new Map<string, WorkerPool>();
const poolKey = (mode: string, maxWorkers: number) => `${mode}/${maxWorkers}`;

/**
 * Starts the worker pool that a local executor with these options (`[executors.NAME]`, as
 * in the configuration) will use, with a worker importing `modules` at once. `redun run`
 * calls it for the default executor before it imports the workflow itself, so that the
 * worker starts alongside: the run's first job then does not wait for it. Nothing for
 * `mode = inline`, or for options that do not parse (the executor reports them later).
 */
export function prestartLocalPool(raw: Readonly<Record<string, unknown>>, modules: string[]): void {
  let options: LocalExecutorOptions;
  try {
    options = parseExecutorOptions("local", "default", raw, LOCAL_SCHEMA) as never;
  } catch {
    return;
  }
  if (options.mode === "inline") return;
  const key = poolKey(options.mode, options.max_workers);
  let pool = prestartedPools.get(key);
  if (!pool) prestartedPools.set(key, (pool = new WorkerPool(options.mode, options.max_workers)));
  pool.preload(modules);
}

/** Runs jobs inline, on worker threads, or on child processes. */
export class LocalExecutor implements Executor {
  /** Worker pools by the heap limit of their workers in MiB (`undefined`: none). */
  private readonly pools = new Map<number | undefined, WorkerPool>();
  /** Bounds inline jobs (the pools bound the others). */
  private readonly inlineSlots: Slots;
  /** The signals of inline jobs running now, aborted when the executor stops. */
  private readonly inlineJobs = new Set<AbortController>();

  constructor(
    readonly name: string,
    readonly options: LocalExecutorOptions,
  ) {
    this.inlineSlots = new Slots(options.max_workers);
  }

  private pool(maxMemoryMb: number | undefined): WorkerPool {
    let pool = this.pools.get(maxMemoryMb);
    if (!pool) {
      const mode = this.options.mode as "thread" | "process";
      const key = poolKey(mode, this.options.max_workers);
      const prestarted = maxMemoryMb === undefined ? prestartedPools.get(key) : undefined;
      if (prestarted) prestartedPools.delete(key);
      pool = prestarted ?? new WorkerPool(mode, this.options.max_workers, maxMemoryMb);
      this.pools.set(maxMemoryMb, pool);
    }
    return pool;
  }

  async submit(job: JobSpec): Promise<unknown> {
    const timeout = limit(job.options.timeout, this.options.timeout);
    if (this.options.mode === "inline") return this.runInline(job, timeout);
    const { task } = job;
    const mode = this.options.mode;
    const maxMemory = limit(job.options.maxMemory, this.options.max_memory);
    if (!task.modulePath) {
      throw new Error(
        `task "${task.fullname}" cannot run on executor "${this.name}" (mode ${this.options.mode}): ` +
          "the module that defines it is unknown; define tasks in a module file, or use mode = inline",
      );
    }
    const args: Wire = job.args.map((arg, i) =>
      encodeValue(arg, `argument "${task.paramNames[i] ?? i}" of task "${task.fullname}"`),
    );
    const stopped =
      mode === "thread"
        ? "its worker thread was terminated and replaced"
        : "its worker process was killed and replaced";
    const pool = this.pool(maxMemory === undefined ? undefined : heapLimitMb(maxMemory));
    const reply = await pool.run(
      {
        type: "run",
        task: task.fullname,
        module: task.modulePath,
        args,
        options: encodeOptions(job.options),
      },
      {
        timeoutMs: timeout === undefined ? undefined : timeout * 1000,
        timedOut: () => new TimeoutError(task.fullname, timeout!, stopped),
        outOfMemory: () =>
          maxMemory === undefined
            ? new Error(`task "${task.fullname}": its ${mode} worker ran out of memory`)
            : new MemoryLimitError(task.fullname, maxMemory, mode),
      },
    );
    const wire = reply.ok ? reply.result : reply.error;
    await importTaskModules(wire);
    const value = decodeValue(wire);
    if (!reply.ok) throw value;
    return value;
  }

  /**
   * Inline jobs still respect max_workers, so a fan-out cannot flood the event loop. At its
   * timeout a job's signal is aborted and the job fails at once (a task that ignores the
   * signal goes on in the background, its result unused).
   */
  private runInline(job: JobSpec, timeout: number | undefined): Promise<unknown> {
    return this.inlineSlots.run(() => {
      const controller = new AbortController();
      this.inlineJobs.add(controller);
      const running = runTask(job.task, job.args, job.options, controller.signal);
      return new Promise<unknown>((resolve, reject) => {
        const timer =
          timeout === undefined
            ? undefined
            : setTimeout(() => {
                const error = new TimeoutError(
                  job.task.fullname,
                  timeout,
                  "its AbortSignal (currentSignal()) was aborted",
                );
                controller.abort(error);
                reject(error);
              }, timeout * 1000);
        running.then(resolve, reject).finally(() => {
          clearTimeout(timer);
          this.inlineJobs.delete(controller);
        });
      });
    });
  }

  async stop(): Promise<void> {
    for (const controller of this.inlineJobs) {
      controller.abort(new Error(`executor "${this.name}" was stopped`));
    }
    this.inlineJobs.clear();
    await Promise.all([...this.pools.values()].map((pool) => pool.stop()));
  }
}

/** Creates a local executor from its `[executors.NAME]` options (registered as `local`). */
export const createLocalExecutor: ExecutorFactory = (name, raw) =>
  new LocalExecutor(
    name,
    parseExecutorOptions("local", name, raw, LOCAL_SCHEMA) as unknown as LocalExecutorOptions,
  );
