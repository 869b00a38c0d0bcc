/**
 * What waits for the backend's next write: rows by table, the newest state of each job's
 * row, large values bound for the value store, and call claims to release with those rows.
 * A job still running waits a while before its row is taken, so that most jobs, which end
 * sooner, write one row instead of two.
 */
import type { ClaimRelease } from "./call-claims.ts";
import type { JobTable } from "./schema.ts";
import { appendBatch, batchIsEmpty, emptyBatch, type RowBatch } from "./writes.ts";

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
  private jobs = new Map<string, JobTable>();
  /** When each job in `jobs` was first queued (what {@link RUNNING_JOB_ROW_DELAY_MS} counts from). */
  private jobsQueuedAt = new Map<string, number>();
  /** Call claims to release with the next write, by holder. */
  private releases = new Map<string, string[]>();

  /** Queues a job's row as it is now (replacing the one queued before, if any). */
  job(row: JobTable): void {
    if (!this.jobs.has(row.id)) this.jobsQueuedAt.set(row.id, performance.now());
    this.jobs.set(row.id, { ...row });
  }

  /** Queues the release of a call claim. */
  release(holder: string, evalHash: string): void {
    let hashes = this.releases.get(holder);
    if (!hashes) this.releases.set(holder, (hashes = []));
    hashes.push(evalHash);
  }

  /** Rows waiting. */
  get size(): number {
    let rows = this.jobs.size;
    for (const table of Object.values(this.rows)) rows += (table as unknown[]).length;
    return rows;
  }

  /**
   * Takes what the next write writes, leaving (when `holdRunningJobs`) the rows of jobs still
   * running that were queued less than {@link RUNNING_JOB_ROW_DELAY_MS} ago.
   * @returns the write (undefined when there is nothing to write), and in how many
   *   milliseconds the first row left behind is due.
   */
  take(holdRunningJobs: boolean): { write?: QueuedWrite; dueInMs?: number } {
    const batch = this.rows;
    const now = performance.now();
    let heldSince: number | undefined;
    for (const [id, row] of this.jobs) {
      const queuedAt = this.jobsQueuedAt.get(id)!;
      if (holdRunningJobs && row.end_time === null && now - queuedAt < RUNNING_JOB_ROW_DELAY_MS) {
        heldSince ??= queuedAt;
        continue;
      }
      batch.job.push(row);
      this.jobs.delete(id);
      this.jobsQueuedAt.delete(id);
    }
    // Map order is the order jobs were first queued: the first one held is due first.
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
    // Job rows: the newest state of each job wins; those put back are due at once.
    const jobs = new Map<string, JobTable>();
    const due = performance.now() - RUNNING_JOB_ROW_DELAY_MS;
    for (const row of batch.job) {
      jobs.set(row.id, row);
      this.jobsQueuedAt.set(row.id, due);
    }
    for (const [id, row] of this.jobs) jobs.set(id, row);
    this.jobs = jobs;
    batch.job = [];
    appendBatch(batch, this.rows);
    this.rows = batch;
    for (const [hash, bytes] of storeWrites)
      if (!this.storeWrites.has(hash)) this.storeWrites.set(hash, bytes);
  }
}
