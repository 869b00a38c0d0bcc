/**
 * A job: one evaluation of a task call within an execution.
 */
import { randomUUID } from "node:crypto";
import type { Task } from "../api/task.ts";
import type { JobState } from "./status.ts";
import type { JobContext } from "../api/job-context.ts";

/** What a finished call contributes to its parent's provenance. */
export interface CallResult {
  value: unknown;
  callHash: string;
  /** Hashes of every task in the call's subtree (for the shallow cache). */
  subtreeTasks: ReadonlySet<string>;
  /** The call failed: `value` is its error (only a `catch_` keeps such a child). */
  failed?: boolean;
}

/** One task call being evaluated. */
export class Job {
  readonly id = randomUUID();
  readonly startTime = new Date().toISOString();
  state: JobState = "PENDING";
  /**
   * Calls made beneath this job (from its result's expressions), in the order they were
   * found; a failed one resolves to its failed call (or `undefined` when it was not recorded).
   */
  readonly children: Promise<CallResult | undefined>[] = [];
  /** The children that have settled so far, by their position in `children`. */
  readonly settled: (CallResult | undefined)[] = [];
  private sites: Set<string> | undefined;
  /** The call recorded for this job when it failed. */
  failedCallHash: string | undefined;
  /** How the job's lines name it (`72bd3a1e: acme.add(x=1)`), once one was printed. */
  callText: string | undefined;
  /** When the job started running (`performance.now()`), for its `Done` line. */
  startedAt: number | undefined;

  constructor(
    readonly task: Task,
    readonly evalHash: string,
    readonly parent: Job | undefined,
    readonly executionId: string,
    /** The job's context (inherited from its parent, extended by its call). */
    readonly context: JobContext,
    /** Whether the job's provenance is recorded (not in a dry run, not under `prov: false`). */
    readonly recorded: boolean,
  ) {}

  /**
   * Eval hashes of the calls this job's result reached: the same call reached again from
   * this job is the same call site, not a second job. (Made on first use: most jobs reach
   * no calls.)
   */
  get callSites(): Set<string> {
    return (this.sites ??= new Set());
  }

  /** What this job contributes to its parent when it failed. */
  failedResult(error: unknown): CallResult | undefined {
    if (this.failedCallHash === undefined) return undefined;
    return {
      value: error,
      callHash: this.failedCallHash,
      subtreeTasks: subtreeTasks(this.task.hash, []),
      failed: true,
    };
  }
}

/** The subtree sets of calls without children, one per task hash (they never change). */
const leafSubtrees = new Map<string, ReadonlySet<string>>();

/** The hashes of a call's task and of every task beneath its children. */
export function subtreeTasks(
  taskHash: string,
  children: readonly CallResult[],
): ReadonlySet<string> {
  if (children.length === 0) {
    let leaf = leafSubtrees.get(taskHash);
    if (!leaf) leafSubtrees.set(taskHash, (leaf = new Set([taskHash])));
    return leaf;
  }
  const tasks = new Set([taskHash]);
  for (const child of children) for (const h of child.subtreeTasks) tasks.add(h);
  return tasks;
}
