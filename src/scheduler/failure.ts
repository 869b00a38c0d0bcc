/**
 * How the scheduler marks errors: where a failure first happened, and the errors of its own
 * (a dry run that would run a job, a job cancelled because the execution failed). Kept apart
 * from the scheduler so that the command line can read a failure without loading it.
 */
import { RedunError } from "../values/errors.ts";
import { registerErrorClass } from "../values/serialize.ts";

/** A job's failure, with the task and job it happened in (the cause is the task's error). */
export interface FailureInfo {
  task: string;
  jobId: string;
  /** The call recorded for the failed job, when it was recorded. */
  callHash?: string;
}

// A registered symbol, so the mark survives across copies of this module.
const FAILURE = Symbol.for("redun.failure");

/** The task and job where an error first happened, if the scheduler saw it. */
export function failureInfo(error: unknown): FailureInfo | undefined {
  return (error as any)?.[FAILURE];
}

/** Marks where an error first happened; an error already marked keeps its first mark. */
export function markFailure(error: unknown, info: FailureInfo): FailureInfo | undefined {
  if (!error || typeof error !== "object") return undefined;
  if (FAILURE in error) return (error as any)[FAILURE];
  Object.defineProperty(error, FAILURE, { value: info });
  return info;
}

/** A job that would run in a dry run. */
export class DryRunMiss extends RedunError {
  override name = "DryRunMiss";
  override get code() {
    return "REDUN_DRY_RUN_MISS" as const;
  }
  constructor(readonly description: string) {
    super(`would run ${description}`);
  }
}
registerErrorClass(DryRunMiss);

/** A job that was not started because the execution had already failed. */
export class CancelledError extends RedunError {
  override name = "CancelledError";
  override get code() {
    return "REDUN_CANCELLED" as const;
  }
}
registerErrorClass(CancelledError);

/** The message of an error, or the text of a thrown non-error. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
