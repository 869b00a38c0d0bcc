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
}

/** Worker → scheduler. */
export type WorkerReply =
  | { type: "ready" }
  | { type: "done"; id: number; ok: true; result: Wire; ms: number }
  | { type: "done"; id: number; ok: false; error: Wire; ms: number };
