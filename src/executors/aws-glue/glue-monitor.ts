/**
 * One monitor loop per Glue executor: every `job_monitor_interval` it asks Glue for the
 * state of each job run it tracks (GetJobRun), settles the ones that ended, and backs off
 * when AWS throttles. The loop runs only while runs are tracked.
 */
import { PollLoop } from "../remote/poll-loop.ts";
import type { GlueClient, JobRun } from "@aws-sdk/client-glue";
import { Backoff, isThrottling } from "../aws/backoff.ts";

/** Job run states after which nothing more happens. */
export const ENDED_STATES: ReadonlySet<string> = new Set([
  "SUCCEEDED",
  "FAILED",
  "TIMEOUT",
  "ERROR",
  "STOPPED",
  "EXPIRED",
]);

/** Consecutive failed polls (other than throttling) after which every tracked run fails. */
const MAX_POLL_ERRORS = 10;

/** How a tracked run ended. */
export interface GlueRunEnd {
  run: JobRun;
  /** Whether the run was seen starting or running before it ended. */
  seenActive: boolean;
}

/** A tracked run Glue does not know. */
export class GlueRunNotFoundError extends Error {
  override name = "GlueRunNotFoundError";
}

interface Tracked {
  jobName: string;
  runId: string;
  region: string;
  seenActive: boolean;
  onFirstSeen?: (run: JobRun) => void;
  resolve(end: GlueRunEnd): void;
  reject(error: Error): void;
}

/** Options of a {@link GlueMonitor}. */
export interface GlueMonitorOptions {
  client(region: string): Promise<GlueClient>;
  intervalMs: number;
  warn(message: string): void;
}

/** Watches Glue job runs until they end. */
export class GlueMonitor {
  private readonly runs = new Map<string, Tracked>();
  private readonly loop: PollLoop;
  private readonly backoff = new Backoff(1000, 60_000);
  private pollErrors = 0;

  constructor(private readonly options: GlueMonitorOptions) {
    this.loop = new PollLoop(
      options.intervalMs,
      () => this.runs.size > 0,
      () => this.poll(),
    );
  }

  /** Resolves once the run has ended (any of {@link ENDED_STATES}). */
  track(
    jobName: string,
    runId: string,
    region: string,
    onFirstSeen?: (run: JobRun) => void,
  ): Promise<GlueRunEnd> {
    return new Promise<GlueRunEnd>((resolve, reject) => {
      if (this.loop.stopped) return reject(new Error("the AWS Glue job monitor has stopped"));
      this.runs.set(runId, {
        jobName,
        runId,
        region,
        seenActive: false,
        onFirstSeen,
        resolve,
        reject,
      });
      this.loop.start();
    });
  }

  /** The runs being watched. */
  tracked(): { jobName: string; runId: string; region: string }[] {
    return [...this.runs.values()].map(({ jobName, runId, region }) => ({
      jobName,
      runId,
      region,
    }));
  }

  /** Stops watching; the tracked runs are abandoned (never settled). */
  stop(): void {
    this.loop.stop();
    this.runs.clear();
  }

  /** One round of GetJobRun; returns the wait before the next round. */
  private async poll(): Promise<number> {
    const { GetJobRunCommand } = await import("@aws-sdk/client-glue");
    try {
      for (const tracked of [...this.runs.values()]) {
        if (this.loop.stopped) break;
        const client = await this.options.client(tracked.region);
        let run: JobRun | undefined;
        try {
          ({ JobRun: run } = await client.send(
            new GetJobRunCommand({ JobName: tracked.jobName, RunId: tracked.runId }),
          ));
        } catch (error) {
          if ((error as { name?: string }).name !== "EntityNotFoundException") throw error;
          this.runs.delete(tracked.runId);
          tracked.reject(
            new GlueRunNotFoundError(
              `AWS Glue job run ${tracked.runId} of job ${tracked.jobName} was not found`,
            ),
          );
          continue;
        }
        if (!run || !this.runs.has(tracked.runId)) continue;
        const first = tracked.onFirstSeen;
        tracked.onFirstSeen = undefined;
        first?.(run);
        if (ENDED_STATES.has(run.JobRunState ?? "")) {
          this.runs.delete(tracked.runId);
          tracked.resolve({ run, seenActive: tracked.seenActive });
        } else {
          tracked.seenActive = true;
        }
      }
      this.backoff.succeed();
      this.pollErrors = 0;
      return this.options.intervalMs;
    } catch (error) {
      const wait = Math.max(this.options.intervalMs, this.backoff.fail());
      if (isThrottling(error)) {
        this.options.warn(
          `AWS Glue is throttling GetJobRun; next poll in ${(wait / 1000).toFixed(1)} s`,
        );
        return wait;
      }
      const message = `AWS Glue GetJobRun failed: ${(error as Error).message}`;
      if (++this.pollErrors >= MAX_POLL_ERRORS) {
        const failed = new Error(`${message} (${this.pollErrors} times in a row)`);
        for (const [id, tracked] of this.runs) {
          this.runs.delete(id);
          tracked.reject(failed);
        }
        this.pollErrors = 0;
      } else {
        this.options.warn(`${message}; retrying in ${(wait / 1000).toFixed(1)} s`);
      }
      return wait;
    }
  }
}
