/**
 * A job: one evaluation of a task call within an execution.
 */
import { randomUUID } from "node:crypto";
import type { Task } from "../api/task.ts";
import type { JobState } from "./status.ts";

/** What a finished call contributes to its parent's provenance. */
export interface CallResult {
  value: unknown;
  callHash: string;
  /** Hashes of every task in the call's subtree (for the shallow cache). */
  subtreeTasks: ReadonlySet<string>;
}

/** One task call being evaluated. */
export class Job {
  readonly id = randomUUID();
  readonly startTime = new Date().toISOString();
  state: JobState = "PENDING";
  /**
   * Calls made beneath this job (from its result's expressions), in the order they were
   * found; `undefined` for one that failed.
   */
  readonly children: Promise<CallResult | undefined>[] = [];

  constructor(
    readonly task: Task,
    readonly evalHash: string,
    readonly parent: Job | undefined,
    readonly executionId: string,
  ) {}
}
