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

/**
 * Scheduler → worker: import these workflow modules now (a worker started ahead of its
 * first job). A module that fails to import fails the jobs that need it, not this.
 */
export interface PreloadMessage {
  type: "preload";
  modules: string[];
}

/**
 * Scheduler → worker: give back these jobs if they have not started (they were queued
 * behind a job that turned out long; another worker will take them).
 */
export interface ReclaimMessage {
  type: "reclaim";
  ids: number[];
}

/** Scheduler → worker, any message. */
export type PoolMessage = RunMessage | PreloadMessage | ReclaimMessage;

/**
 * Worker → scheduler. A finished job says how long it took (`ms`) and how long the worker
 * had waited for it with nothing to do (`idleMs`): a worker often idle is not what holds
 * the run up.
 */
export type WorkerReply =
  | { type: "ready" }
  | { type: "started"; id: number }
  | { type: "reclaimed"; ids: number[] }
  | { type: "done"; id: number; ok: true; result: Wire; ms: number; idleMs: number }
  | { type: "done"; id: number; ok: false; error: Wire; ms: number; idleMs: number };
