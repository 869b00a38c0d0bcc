/** The options of `[executors.NAME]` sections of `type = local`, with their defaults. */
import type { OptionSchema, OptionValues } from "../../config/option-schema.ts";

/** `type = local`: tasks on this machine. */
export const LOCAL_SCHEMA = {
  mode: {
    type: "string",
    default: "thread",
    // `inline` is ours: runs tasks on the scheduler's own event loop.
    choices: ["thread", "process", "inline"],
    description: "thread, process, or inline (the scheduler's own event loop)",
  },
  max_workers: { type: "int", default: 20, min: 1, description: "Size of the worker pool" },
  start_method: {
    type: "string",
    default: "fork",
    choices: ["fork", "spawn", "forkserver"],
    description: "Accepted for compatibility; Node starts every worker afresh",
  },
} satisfies OptionSchema;

/** Parsed options of a local executor. */
export type LocalOptions = OptionValues<typeof LOCAL_SCHEMA>;
