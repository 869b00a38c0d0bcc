/**
 * One monitor loop per executor: every `job_monitor_interval` it asks AWS Batch for the
 * state of all the jobs it tracks (DescribeJobs, at most 100 ids per call, per region),
 * settles the ones that ended, and backs off when AWS throttles. The loop runs only
 * while jobs are tracked.
 */
import { PollLoop } from "../remote/poll-loop.ts";
import type { BatchClient, JobDetail } from "@aws-sdk/client-batch";
import { Backoff, isThrottling } from "../aws/backoff.ts";
import { RedunError } from "../../values/errors.ts";
import { registerErrorClass } from "../../values/serialize.ts";

/** AWS Batch's limit of job ids per DescribeJobs call. */
export const DESCRIBE_BATCH_SIZE = 100;

/** Consecutive failed polls (other than throttling) after which every tracked job fails. */
const MAX_POLL_ERRORS = 10;

/** A tracked job that DescribeJobs no longer (or never) returned. */
export class BatchJobNotFoundError extends RedunError {
  override name = "BatchJobNotFoundError";
  override get code() {
    return "REDUN_BATCH_JOB_NOT_FOUND" as const;
  }
}
registerErrorClass(BatchJobNotFoundError);

/** How a tracked job ended. */
export interface JobEnd {
  detail: JobDetail;
  /** Whether the job was seen queued or running before it ended (false: ended before tracking). */
  seenActive: boolean;
}

interface Tracked {
  region: string;
  missLimit: number;
  misses: number;
  seenActive: boolean;
  onFirstSeen?: (detail: JobDetail) => void;
  resolve(end: JobEnd): void;
  reject(error: Error): void;
}

/** Splits a list into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Options of a {@link JobMonitor}. */
export interface MonitorOptions {
  /** The Batch client of a region (`""`: the default region). */
  client(region: string): Promise<BatchClient>;
  intervalMs: number;
  /** Where warnings go (throttling, failed polls). */
  warn(message: string): void;
}

/** Watches Batch jobs until they succeed or fail. */
export class JobMonitor {
  private readonly jobs = new Map<string, Tracked>();
  private readonly loop: PollLoop;
  private readonly backoff = new Backoff(1000, 60_000);
  private pollErrors = 0;
  /** DescribeJobs calls made (for tests and diagnostics). */
  describeCalls = 0;

  constructor(private readonly options: MonitorOptions) {
    this.loop = new PollLoop(
      options.intervalMs,
      () => this.jobs.size > 0,
      () => this.poll(),
    );
  }

  /**
   * Resolves with the job's description once it is SUCCEEDED or FAILED.
   * @param missLimit - polls that may not find the job before it is reported missing
   *   (a job adopted after a restart may be long gone; a new one should appear at once).
   * @param onFirstSeen - called with the job's first description.
   */
  track(
    jobId: string,
    region: string,
    missLimit = 3,
    onFirstSeen?: (detail: JobDetail) => void,
  ): Promise<JobEnd> {
    return new Promise<JobEnd>((resolve, reject) => {
      if (this.loop.stopped) return reject(new Error("the AWS Batch job monitor has stopped"));
      this.jobs.set(jobId, {
        region,
        missLimit,
        misses: 0,
        seenActive: false,
        onFirstSeen,
        resolve,
        reject,
      });
      this.loop.start();
    });
  }

  /** The jobs being watched. */
  tracked(): { id: string; region: string }[] {
    return [...this.jobs].map(([id, job]) => ({ id, region: job.region }));
  }

  /**
   * Stops watching. With a `reason`, tracked jobs are rejected with it; without, they are
   * abandoned (never settled), as the executor contract says of a stopped executor's jobs.
   */
  stop(reason?: Error): void {
    this.loop.stop();
    for (const [id, job] of this.jobs) {
      this.jobs.delete(id);
      if (reason) job.reject(reason);
    }
  }

  /** One round of DescribeJobs; returns the wait before the next round. */
  private async poll(): Promise<number> {
    const byRegion = new Map<string, string[]>();
    for (const [id, job] of this.jobs) {
      const ids = byRegion.get(job.region) ?? [];
      ids.push(id);
      byRegion.set(job.region, ids);
    }
    try {
      for (const [region, ids] of byRegion) {
        const client = await this.options.client(region);
        const { DescribeJobsCommand } = await import("@aws-sdk/client-batch");
        for (const batch of chunks(ids, DESCRIBE_BATCH_SIZE)) {
          this.describeCalls++;
          const { jobs = [] } = await client.send(new DescribeJobsCommand({ jobs: batch }));
          this.settle(batch, jobs);
        }
      }
      this.backoff.succeed();
      this.pollErrors = 0;
      return this.options.intervalMs;
    } catch (error) {
      const wait = Math.max(this.options.intervalMs, this.backoff.fail());
      if (isThrottling(error)) {
        this.options.warn(
          `AWS Batch is throttling DescribeJobs; next poll in ${(wait / 1000).toFixed(1)} s`,
        );
        return wait;
      }
      this.pollErrors++;
      const message = `AWS Batch DescribeJobs failed: ${(error as Error).message}`;
      if (this.pollErrors >= MAX_POLL_ERRORS) {
        this.stop(
          new Error(
            `${message} (${this.pollErrors} times in a row; giving up on ${this.jobs.size} jobs)`,
          ),
        );
        this.loop.resume(); // new jobs may still be tracked later
      } else {
        this.options.warn(`${message}; retrying in ${(wait / 1000).toFixed(1)} s`);
      }
      return wait;
    }
  }

  private settle(asked: readonly string[], found: readonly JobDetail[]): void {
    const seen = new Set<string>();
    for (const detail of found) {
      const id = detail.jobId;
      if (!id) continue;
      seen.add(id);
      const job = this.jobs.get(id);
      if (!job) continue;
      job.misses = 0;
      const first = job.onFirstSeen;
      job.onFirstSeen = undefined;
      first?.(detail);
      if (detail.status === "SUCCEEDED" || detail.status === "FAILED") {
        this.jobs.delete(id);
        job.resolve({ detail, seenActive: job.seenActive });
      } else {
        job.seenActive = true;
      }
    }
    for (const id of asked) {
      const job = this.jobs.get(id);
      if (!job || seen.has(id)) continue;
      if (++job.misses >= job.missLimit) {
        this.jobs.delete(id);
        job.reject(new BatchJobNotFoundError(`AWS Batch job ${id} was not found`));
      }
    }
  }
}
