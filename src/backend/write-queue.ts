/**
 * What waits for the backend's next write: rows by table, the newest state of each job's
 * row, large values bound for the value store, and call claims to release with those rows.
 * A job still running waits a while before its row is taken, so that most jobs, which end
 * sooner, write one row instead of two.
 */
import type { ClaimRelease } from "./call-claims.ts";
import type { JobTable } from "./schema.ts";
import { appendBatch, batchIsEmpty, batchRows, emptyBatch, type RowBatch } from "./writes.ts";

/**
 * How long the row of a job still running waits before a write takes it (an explicit flush
 * takes every row).
 */
export const RUNNING_JOB_ROW_DELAY_MS = 1_000;

/** One write's worth: rows, value-store files, claims to release. */
export interface QueuedWrite {
  batch: RowBatch;
  storeWrites: Map<string, Buffer>;
  releases: ClaimRelease[];
}

/** The rows and the rest waiting to be written. */
export class WriteQueue {
  /** Rows by table (job rows apart, see {@link job}). */
  rows = emptyBatch();
  /** Large values waiting to be written to the value store (before their rows). */
  storeWrites = new Map<string, Buffer>();
  /** Rows of finished jobs (the newest row of each job). */
  private finishedJobs = new Map<string, JobTable>();
  /**
   * Rows of jobs still running, in the order they were first queued (so that those due
   * first come first), each with when it was first queued: what
   * {@link RUNNING_JOB_ROW_DELAY_MS} counts from.
   */
  private runningJobs = new Map<string, { row: JobTable; queuedAt: number }>();
  /** Call claims to release with the next write, by holder. */
  private releases = new Map<string, string[]>();

  /**
   * Queues a job's row (replacing the one queued before, if any). The row is kept as it is:
   * the caller makes a new one for each state of the job.
   */
  job(row: JobTable): void {
    const running = this.runningJobs.get(row.id);
    if (row.end_time === null && !this.finishedJobs.has(row.id)) {
      if (running) running.row = row;
      else this.runningJobs.set(row.id, { row, queuedAt: performance.now() });
      return;
    }
    if (running) this.runningJobs.delete(row.id);
    this.finishedJobs.set(row.id, row);
  }

  /** Queues the release of a call claim. */
  release(holder: string, evalHash: string): void {
    let hashes = this.releases.get(holder);
    if (!hashes) this.releases.set(holder, (hashes = []));
    hashes.push(evalHash);
  }

  /** Rows waiting. */
  get size(): number {
    return this.finishedJobs.size + this.runningJobs.size + batchRows(this.rows);
  }

  /**
   * Takes what the next write writes, leaving (when `holdRunningJobs`) the rows of jobs still
   * running that were queued less than {@link RUNNING_JOB_ROW_DELAY_MS} ago.
   * @returns the write (undefined when there is nothing to write), and in how many
   *   milliseconds the first row left behind is due.
   */
  take(holdRunningJobs: boolean): { write?: QueuedWrite; dueInMs?: number } {
    const batch = this.rows;
    for (const row of this.finishedJobs.values()) batch.job.push(row);
    this.finishedJobs = new Map();
    const now = performance.now();
    let heldSince: number | undefined;
    for (const [id, { row, queuedAt }] of this.runningJobs) {
      // In the order first queued: once one is held, so are the rest.
      if (holdRunningJobs && now - queuedAt < RUNNING_JOB_ROW_DELAY_MS) {
        heldSince = queuedAt;
        break;
      }
      batch.job.push(row);
      this.runningJobs.delete(id);
    }
    const dueInMs =
      heldSince === undefined ? undefined : heldSince + RUNNING_JOB_ROW_DELAY_MS - now;
    const releases = [...this.releases].map(([holder, evalHashes]) => ({ holder, evalHashes }));
    if (batchIsEmpty(batch) && this.storeWrites.size === 0 && releases.length === 0) {
      return { dueInMs };
    }
    const write = { batch, storeWrites: this.storeWrites, releases };
    this.rows = emptyBatch();
    this.storeWrites = new Map();
    this.releases = new Map();
    return { write, dueInMs };
  }

  /** Puts a write that failed back in front of what was queued since. */
  requeue({ batch, storeWrites, releases }: QueuedWrite): void {
    for (const { holder, evalHashes } of releases) {
      this.releases.set(holder, [...evalHashes, ...(this.releases.get(holder) ?? [])]);
    }
    // Job rows: the newest state of each job wins; those put back are due at once (first).
    const due = performance.now() - RUNNING_JOB_ROW_DELAY_MS;
    const running = new Map<string, { row: JobTable; queuedAt: number }>();
    for (const row of batch.job) {
      if (this.finishedJobs.has(row.id)) continue;
      if (row.end_time !== null) this.finishedJobs.set(row.id, row);
      else running.set(row.id, { row: this.runningJobs.get(row.id)?.row ?? row, queuedAt: due });
    }
    for (const [id, entry] of this.runningJobs) if (!running.has(id)) running.set(id, entry);
    this.runningJobs = running;
    batch.job = [];
    appendBatch(batch, this.rows);
    this.rows = batch;
    for (const [hash, bytes] of storeWrites)
      if (!this.storeWrites.has(hash)) this.storeWrites.set(hash, bytes);
  }
}
