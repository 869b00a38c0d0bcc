/**
 * Stopping a run on request (Ctrl-C, SIGTERM, `scheduler.interrupt()`): no new job starts,
 * jobs already running get a short grace period to finish (and are recorded when they do),
 * then, or at a second request, the rest are abandoned. Jobs that did not finish are
 * INTERRUPTED, neither RUNNING nor FAILED, and run again on the next run.
 */
import { RedunError } from "../values/errors.ts";
import { registerErrorClass } from "../values/serialize.ts";

/** How long running jobs may go on after the first request (under `docker stop`'s 10 s). */
export const INTERRUPT_GRACE_MS = 5000;

/** Exit codes of `redun run` when interrupted by a signal (128 + its number). */
export const SIGNAL_EXIT_CODES: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

/** A job (or run) that did not finish because the run was interrupted. */
export class InterruptedError extends RedunError {
  override name = "InterruptedError";
  override get code() {
    return "REDUN_INTERRUPTED" as const;
  }
  /** What interrupted the run (`SIGINT`, `SIGTERM`, or `interrupt` from the API). */
  readonly signal: string;
  constructor(message: string, signal = "interrupt", options?: { cause?: unknown }) {
    super(message, options);
    this.signal = signal;
  }
}
registerErrorClass(InterruptedError);

/** The interruption state of one run. */
export class Interruption {
  private reason: string | undefined;
  private isForced = false;
  private timer: NodeJS.Timeout | undefined;
  /** Called when running jobs are abandoned (one per running job, removed when it ends). */
  private readonly forcedListeners = new Set<() => void>();

  /** What interrupted the run, once it was. */
  get signal(): string | undefined {
    return this.reason;
  }

  /** Whether running jobs have been abandoned. */
  get forced(): boolean {
    return this.isForced;
  }

  /**
   * Asks the run to stop. The first request stops new jobs and starts the grace period;
   * a second one (or the end of the grace period) abandons the running jobs.
   *
   * @returns `"graceful"` for the first request, `"forced"` afterwards.
   */
  request(signal = "interrupt", graceMs = INTERRUPT_GRACE_MS): "graceful" | "forced" {
    if (this.reason === undefined) {
      this.reason = signal;
      this.timer = setTimeout(() => this.force(), graceMs);
      return "graceful";
    }
    this.force();
    return "forced";
  }

  private force(): void {
    clearTimeout(this.timer);
    if (this.isForced) return;
    this.isForced = true;
    for (const listener of [...this.forcedListeners]) listener();
    this.forcedListeners.clear();
  }

  /**
   * Calls `listener` when running jobs are abandoned (at once if they already are).
   * @returns a function that removes the listener (call it when the job ends).
   */
  onForced(listener: () => void): () => void {
    if (this.isForced) {
      listener();
      return () => {};
    }
    this.forcedListeners.add(listener);
    return () => this.forcedListeners.delete(listener);
  }

  /** The error of a job that did not finish. */
  error(task: string, started: boolean, cause?: unknown): InterruptedError {
    const what = started ? "was stopped" : "was not started";
    return new InterruptedError(
      `job for ${task} ${what}: the run was interrupted (${this.reason})`,
      this.reason,
      cause === undefined ? undefined : { cause },
    );
  }

  /** Ends the grace period's timer (the run is over). */
  dispose(): void {
    clearTimeout(this.timer);
  }
}
