/**
 * Running one job on its executor: holding its limits while it runs (and waiting first
 * while too many provenance rows wait to be written), retrying a failed attempt as the
 * task's `retries` allows, and giving up on it when the run is interrupted.
 */
import type { TaskOptions } from "../api/options.ts";
import type { Task } from "../api/task.ts";
import type { Executor } from "../executors/executor.ts";
import { CancelledError, errorMessage } from "./failure.ts";
import { InterruptedError, type Interruption } from "./interrupt.ts";
import type { Job } from "./job.ts";
import type { LimitPool } from "./limits.ts";
import type { JobStatusTable } from "./status.ts";
import type { JobLog } from "./job-log.ts";

/** What running a job needs from the scheduler. */
export interface SubmitServices {
  limits: LimitPool;
  status: JobStatusTable;
  /** Job lines (`Run Job …`); none when absent. */
  jobLog?: JobLog;
  getExecutor(name: string): Executor;
  /** Warnings (a retried job, a database that stopped answering). */
  log(line: string): void;
  /**
   * A function to call when the job is over, once the provenance backend has room for
   * another job's records (backpressure while the database is unreachable): at once when
   * it has, else a promise of it; a rejected promise once the backend has given up writing.
   */
  waitForRoom?(): (() => void) | Promise<() => void>;
  /** The run's interruption state: once requested, no job starts and none is retried. */
  interruption?: Interruption;
}

/**
 * Runs a job's task on its executor, holding its limits, with retries.
 *
 * @param aborted - whether the execution has failed (a job not yet started is then cancelled).
 */
export async function submitJob(
  services: SubmitServices,
  job: Job,
  task: Task,
  args: unknown[],
  options: TaskOptions,
  aborted: () => boolean,
): Promise<unknown> {
  const { limits, status, getExecutor, interruption } = services;
  const amounts = limits.normalize(options.limits, task.fullname);
  const executor = getExecutor(options.executor ?? "default");
  // Before its limits: a job held back while the database drains must not hold them.
  // Both are awaited only when they wait (a fan-out's jobs seldom do): each await suspends
  // the job, which a fan-out of tiny tasks pays for per job.
  const room = services.waitForRoom?.();
  const leave = room instanceof Promise ? await room : room;
  let release: () => void;
  try {
    const acquired = limits.acquire(amounts);
    release = acquired instanceof Promise ? await acquired : acquired;
  } catch (error) {
    leave?.();
    throw error;
  }
  try {
    if (interruption?.signal !== undefined) throw interruption.error(task.fullname, false);
    if (aborted())
      throw new CancelledError(`job for ${task.fullname} cancelled: the execution failed`);
    status.move(task.fullname, job.state, "RUNNING");
    job.state = "RUNNING";
    services.jobLog?.run(job, args, options.executor ?? "default");
    const retries = options.retries ?? 0;
    for (let attempt = 0; ; attempt++) {
      try {
        const running = executor.submit({
          jobId: job.id,
          executionId: job.executionId,
          evalHash: job.evalHash,
          task,
          args,
          options: options as Readonly<Record<string, unknown>>,
        });
        return await (interruption ? untilForced(running, interruption, task.fullname) : running);
      } catch (error) {
        // A job that fails once the run is interrupted was most likely stopped by it (a
        // Ctrl-C reaches the commands a task runs too): it is interrupted, not failed.
        if (interruption?.signal !== undefined) {
          throw error instanceof InterruptedError
            ? error
            : interruption.error(task.fullname, true, error);
        }
        if (attempt >= retries || aborted()) throw error;
        services.log(
          `[redun] Retrying ${task.fullname} (attempt ${attempt + 2} of ${retries + 1}): ${errorMessage(error)}\n`,
        );
      }
    }
  } finally {
    release();
    leave?.();
  }
}

/** A running job's result, or its interruption when the run stops waiting for it. */
function untilForced<T>(running: Promise<T>, interruption: Interruption, task: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stopWaiting = interruption.onForced(() => {
      // The executor's own outcome comes later (or never): it no longer matters.
      running.catch(() => {});
      reject(interruption.error(task, true));
    });
    running.then(
      (value) => {
        stopWaiting();
        resolve(value);
      },
      (error: unknown) => {
        stopWaiting();
        reject(error);
      },
    );
  });
}
