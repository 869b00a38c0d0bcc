/**
 * Job submissions in flight on a remote executor (AWS Batch, Kubernetes): each stays visible
 * to the executor's `stop()`, which waits for them, and a failed one fails the jobs it carried
 * with one line naming the task and the executor, unless the executor has stopped (its calls
 * are then abandoned).
 */
import type { JobSpec } from "../executor.ts";
import { messageOf } from "./executor-log.ts";

/** What a submission carries: its job, and how to fail it. */
export interface SubmittedItem {
  job: JobSpec;
  reject(error: unknown): void;
}

/** The submissions of one executor. */
export class Submissions {
  private readonly inFlight = new Set<Promise<void>>();

  /**
   * @param executor - the executor's name; `where` its `[executors.NAME]` prefix in messages;
   *   `service` what it submits to (`AWS Batch`, `Kubernetes`); `stopped` whether it stopped.
   */
  constructor(
    private readonly executor: { name: string; where: string; service: string },
    private readonly stopped: () => boolean,
  ) {}

  /** Keeps a submission in flight visible to {@link settled}; its failure fails its jobs. */
  track(submission: Promise<void>, items: readonly SubmittedItem[]): void {
    const done = submission.catch((error) => {
      if (this.stopped()) return; // cancelled: the calls are abandoned
      for (const item of items) item.reject(this.error(item.job, error));
    });
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }

  /** Resolves when every submission in flight has ended. */
  async settled(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  /** A submission's failure as the job's error: our own messages as they are. */
  error(job: JobSpec, error: unknown): Error {
    const { name, where, service } = this.executor;
    const message = messageOf(error);
    if (message.startsWith(where) || message.includes(`executor "${name}"`)) {
      return error instanceof Error ? error : new Error(message);
    }
    return new Error(
      `task "${job.task.fullname}" on executor "${name}": ${service} submission failed: ${message}`,
    );
  }
}
