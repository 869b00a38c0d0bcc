/**
 * How a job ends, as the run shows and records it: done or replayed (CACHED), failed (its
 * call recorded with the error and traceback), interrupted, or failed and then recovered by
 * a `catch_` handler. Each end moves the job in the status table, prints its line and writes
 * its rows.
 */
import { hashValue } from "../values/hash.ts";
import { DryRunMiss, failureInfo, markFailure } from "./failure.ts";
import { InterruptedError } from "./interrupt.ts";
import { isInternalTask } from "./internal-tasks.ts";
import { subtreeTasks as subtreeTasksOf, type CallResult, type Job } from "./job.ts";
import type { JobLog } from "./job-log.ts";
import { callHashOf, type CallRecord, type Recorder } from "./recorder.ts";
import type { JobStatusTable } from "./status.ts";

/** Ends jobs: the status table, the job lines and the provenance rows. */
export class JobOutcomes {
  /** The jobs an error failed, so that a `catch_` that recovers from it can say so. */
  private readonly failedBy = new WeakMap<object, Job[]>();

  constructor(
    private readonly services: { status: JobStatusTable; jobLog: JobLog },
    private readonly recorder: Recorder,
  ) {}

  /** The jobs an error failed, now that a `catch_` handler took it: recovered. */
  recovered(error: unknown): void {
    if (error === null || typeof error !== "object") return;
    for (const job of this.failedBy.get(error) ?? []) {
      this.services.status.move(job.task.fullname, "FAILED", "RECOVERED");
      if (failureInfo(error)?.jobId === job.id) this.services.jobLog.recovered(job);
    }
    this.failedBy.delete(error);
  }

  /** A job that ran (DONE) or was replayed (CACHED). */
  finish(job: Job, state: "DONE" | "CACHED", callHash: string, args: readonly unknown[]): void {
    this.services.status.move(job.task.fullname, job.state, state);
    if (!isInternalTask(job.task)) {
      if (state === "DONE") this.services.jobLog.done(job, callHash);
      else this.services.jobLog.cached(job, args, callHash);
    }
    job.state = state;
    if (job.recorded) this.recorder.job(job, callHash, new Date().toISOString());
  }

  /**
   * Records a failed job: its call with its arguments, its error (with the traceback) and
   * the children it had, so a failure is as traceable as a success.
   */
  fail(job: Job, call: CallRecord, error: unknown): void {
    if (error instanceof DryRunMiss) {
      this.services.status.move(job.task.fullname, job.state, "PENDING");
      return;
    }
    if (error instanceof InterruptedError) {
      // Not the task's failure: no failed call is recorded, only the job's state.
      this.services.status.move(job.task.fullname, job.state, "INTERRUPTED");
      job.state = "INTERRUPTED";
      if (job.recorded) this.recorder.job(job, null, new Date().toISOString());
      return;
    }
    this.services.status.move(job.task.fullname, job.state, "FAILED");
    job.state = "FAILED";
    const first = markFailure(error, { task: job.task.fullname, jobId: job.id });
    if (error !== null && typeof error === "object") {
      const jobs = this.failedBy.get(error) ?? [];
      jobs.push(job);
      this.failedBy.set(error, jobs);
    }
    // Once, where it happened: the jobs above it fail with the same error.
    if (first === undefined || first.jobId === job.id)
      this.services.jobLog.failed(job, call.args, error);
    if (!job.recorded) return;
    try {
      const errorHash = hashValue(error, "error");
      const children = job.settled.filter((c): c is CallResult => c !== undefined);
      const subtreeTasks = subtreeTasksOf(job.task.hash, children);
      const callHash = callHashOf(true, job.task.hash, call.argsHash, errorHash, children);
      this.recorder.call(
        job,
        call,
        { value: error, valueHash: errorHash, failed: true },
        callHash,
        children,
        subtreeTasks,
      );
      job.failedCallHash = callHash;
      if (first?.jobId === job.id) first.callHash = callHash;
    } catch {
      // An error that cannot be recorded must not hide the original one.
    }
    this.recorder.job(job, job.failedCallHash ?? null, new Date().toISOString());
  }
}
