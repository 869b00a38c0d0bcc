/**
 * Backpressure for the provenance write queue: jobs are admitted while the rows waiting to
 * be written, plus an estimate of what the admitted jobs will record, stay under a bound.
 * While the database is unreachable the queue only grows, so new jobs wait until it drains.
 */

/**
 * About how many rows a job records (its job row, call, arguments, values, evaluation): a
 * job admitted counts for this many until it finishes, so that jobs already admitted (and
 * waiting for an executor's slot) cannot overrun the bound.
 */
const ROWS_PER_JOB = 10;

import { Fifo } from "../values/fifo.ts";

interface Waiter {
  resolve(leave: () => void): void;
  reject(error: unknown): void;
}

/** Admits jobs while there is room in a write queue. */
export class Admission {
  /** Jobs held back, oldest first (a fan-out may hold back tens of thousands). */
  private readonly waiters = new Fifo<Waiter>();
  /** Jobs admitted that have not finished. */
  private admitted = 0;

  /**
   * @param queuedRows - the rows waiting to be written now.
   * @param maxQueuedRows - the bound.
   */
  constructor(
    private readonly queuedRows: () => number,
    private readonly maxQueuedRows: number,
  ) {}

  /**
   * A function to call when the job is over: at once when there is room, else a promise of
   * it, resolved when there is.
   */
  enter(): (() => void) | Promise<() => void> {
    if (this.waiters.length === 0 && this.hasRoom()) return this.admit();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Admits waiting jobs while there is room (after a write, or when a job is over). */
  wake(): void {
    while (this.waiters.length > 0 && this.hasRoom()) this.waiters.shift()!.resolve(this.admit());
  }

  /** Fails every waiting job (the backend gave up writing). */
  rejectAll(error: () => unknown): void {
    for (const waiter of this.waiters.drain()) waiter.reject(error());
  }

  private hasRoom(): boolean {
    const queued = this.queuedRows();
    if (queued >= this.maxQueuedRows) return false;
    // One job at least, so that a bound smaller than a job's rows cannot stall the run.
    return this.admitted === 0 || queued + this.admitted * ROWS_PER_JOB < this.maxQueuedRows;
  }

  private admit(): () => void {
    this.admitted++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.admitted--;
      this.wake();
    };
  }
}
