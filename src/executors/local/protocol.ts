/** Messages between the scheduler and a pool worker (thread or child process). */
import type { Wire } from "../../values/serialize.ts";

/** Scheduler → worker: run one task. */
export interface RunMessage {
  type: "run";
  id: number;
  /** Task fullname. */
  task: string;
  /** Module that defines the task. */
  module: string;
  /** Arguments in the wire format. */
  args: Wire;
  /** The call's effective task options in the wire format (absent when there are none). */
  options?: Wire;
  /**
   * The job has a timeout: the worker says when the task itself starts (after importing
   * its module), so that importing the workflow does not count against the limit.
   */
  timed?: boolean;
}

/** Worker → scheduler. */
export type WorkerReply =
  | { type: "ready" }
  | { type: "started"; id: number }
  | { type: "done"; id: number; ok: true; result: Wire; ms: number }
  | { type: "done"; id: number; ok: false; error: Wire; ms: number };
