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
 */
import { decodeValue, encodeValue, type Wire } from "../../values/serialize.ts";
import type { Executor, ExecutorFactory, JobSpec } from "../executor.ts";
import { importTaskModules } from "../modules.ts";
import { runTask } from "../run-task.ts";
import { WorkerPool } from "./pool.ts";
import { parseExecutorOptions } from "../parse-options.ts";
import { LOCAL_SCHEMA } from "./local-schema.ts";
import { Slots } from "../slots.ts";

/** Options of a local executor. */
export interface LocalExecutorOptions {
  mode: "thread" | "process" | "inline";
  max_workers: number;
  start_method: "fork" | "spawn" | "forkserver";
}

/**
 * Task options for a worker (`hashIncludes` only matters to the task hash, which the
 * scheduler has computed; it may hold values not worth sending).
 */
function encodeOptions(options: Readonly<Record<string, unknown>>): Wire | undefined {
  const { hashIncludes: _hashIncludes, ...rest } = options;
  return Object.keys(rest).length > 0 ? encodeValue(rest, "task options") : undefined;
}

/** Runs jobs inline, on worker threads, or on child processes. */
export class LocalExecutor implements Executor {
  private pool: WorkerPool | undefined;
  /** Bounds inline jobs (the pool bounds the others). */
  private readonly inlineSlots: Slots;

  constructor(
    readonly name: string,
    readonly options: LocalExecutorOptions,
  ) {
    this.inlineSlots = new Slots(options.max_workers);
    if (options.mode !== "inline") this.pool = new WorkerPool(options.mode, options.max_workers);
  }

  async submit(job: JobSpec): Promise<unknown> {
    if (!this.pool) return this.runInline(job);
    const { task } = job;
    if (!task.modulePath) {
      throw new Error(
        `task "${task.fullname}" cannot run on executor "${this.name}" (mode ${this.options.mode}): ` +
          "the module that defines it is unknown; define tasks in a module file, or use mode = inline",
      );
    }
    const args: Wire = job.args.map((arg, i) =>
      encodeValue(arg, `argument "${task.paramNames[i] ?? i}" of task "${task.fullname}"`),
    );
    const reply = await this.pool.run({
      type: "run",
      task: task.fullname,
      module: task.modulePath,
      args,
      options: encodeOptions(job.options),
    });
    const wire = reply.ok ? reply.result : reply.error;
    await importTaskModules(wire);
    const value = decodeValue(wire);
    if (!reply.ok) throw value;
    return value;
  }

  /** Inline jobs still respect max_workers, so a fan-out cannot flood the event loop. */
  private runInline(job: JobSpec): Promise<unknown> {
    return this.inlineSlots.run(() => runTask(job.task, job.args, job.options));
  }

  async stop(): Promise<void> {
    await this.pool?.stop();
  }
}

/** Creates a local executor from its `[executors.NAME]` options (registered as `local`). */
export const createLocalExecutor: ExecutorFactory = (name, raw) =>
  new LocalExecutor(
    name,
    parseExecutorOptions("local", name, raw, LOCAL_SCHEMA) as unknown as LocalExecutorOptions,
  );
