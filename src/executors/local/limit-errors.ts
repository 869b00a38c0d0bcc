/**
 * The errors of a local task's limits: a job that ran past its `timeout`, or whose worker
 * passed its `maxMemory`. Both are the job's failure (recorded FAILED, retried per
 * `retries`, and a `catch_` may recover from them); neither is a crash of the scheduler.
 */
import { RedunError } from "../../values/errors.ts";
import { registerErrorClass } from "../../values/serialize.ts";

/** A job that ran longer than its task's `timeout` and was stopped. */
export class TimeoutError extends RedunError {
  override name = "TimeoutError";
  override get code() {
    return "REDUN_TIMEOUT" as const;
  }
  /** The task's full name. */
  readonly task: string;
  /** The limit, in seconds. */
  readonly timeout: number;
  constructor(task: string, timeout: number, how: string) {
    super(`task "${task}" timed out: it ran past its timeout of ${timeout} s; ${how}`);
    this.task = task;
    this.timeout = timeout;
  }
}
registerErrorClass(TimeoutError);

/** A job whose worker passed its task's `maxMemory` (its JavaScript heap limit). */
export class MemoryLimitError extends RedunError {
  override name = "MemoryLimitError";
  override get code() {
    return "REDUN_MEMORY_LIMIT" as const;
  }
  /** The task's full name. */
  readonly task: string;
  /** The limit, in GiB. */
  readonly maxMemory: number;
  constructor(task: string, maxMemory: number, worker: string) {
    super(
      `task "${task}" ran out of memory: its ${worker} worker passed maxMemory ${maxMemory} GiB ` +
        `(${heapLimitMb(maxMemory)} MiB of JavaScript heap); the worker was replaced`,
    );
    this.task = task;
    this.maxMemory = maxMemory;
  }
}
registerErrorClass(MemoryLimitError);

/** A `maxMemory` in GiB as the heap limit Node takes, in whole MiB. */
export function heapLimitMb(maxMemory: number): number {
  return Math.max(1, Math.round(maxMemory * 1024));
}
