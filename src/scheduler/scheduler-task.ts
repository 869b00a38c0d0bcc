/**
 * Scheduler tasks, as Python redun has them: engine tasks whose body runs in the scheduler
 * (not on an executor), with access to their job and the execution, and that may still run
 * their task on an executor through `submit` (how `subrun` hands a whole sub-workflow to
 * another executor and imports what comes back).
 */
import type { JobContext } from "../api/job-context.ts";
import type { CallTaskOptions, TaskOptions } from "../api/options.ts";
import type { Task } from "../api/task.ts";
import type { Backend } from "../backend/backend.ts";
import type { Config } from "../config/config.ts";

/** What the body of a scheduler task receives besides its arguments. */
export interface SchedulerTaskCall {
  /** The job of this call. */
  job: {
    readonly id: string;
    readonly executionId: string;
    readonly context: JobContext;
    /** Whether the job's provenance is recorded. */
    readonly recorded: boolean;
  };
  /** The call's effective task options. */
  options: TaskOptions;
  /** Options exported to the calls beneath this one. */
  exportOptions: CallTaskOptions;
  /** Whether the execution is a dry run. */
  dryrun: boolean;
  /** `false` for `--no-cache`. */
  cache: boolean;
  /** The scheduler's configuration, when it was built from one. */
  config?: Config;
  /** The execution's provenance backend. */
  backend: Backend;
  /** Where the scheduler writes its messages. */
  log(text: string): void;
  /** Runs the task itself on its executor (`options.executor`), as any other job runs. */
  submit(args: unknown[]): Promise<unknown>;
}

/** The scheduler-side body of a scheduler task. */
export type SchedulerTaskBody = (args: unknown[], call: SchedulerTaskCall) => Promise<unknown>;

const bodies = new Map<string, SchedulerTaskBody>();

/**
 * Makes a task a scheduler task: the scheduler runs `body` instead of submitting the task.
 * The task's own function is what `submit` runs where the job runs.
 */
export function registerSchedulerTask(task: Task, body: SchedulerTaskBody): void {
  bodies.set(task.fullname, body);
}

/** The scheduler-side body of a task, when it is a scheduler task. */
export function schedulerTaskBody(task: Task): SchedulerTaskBody | undefined {
  return bodies.size === 0 ? undefined : bodies.get(task.fullname);
}
