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
  timeout: {
    type: "float",
    min: 0,
    description:
      "Seconds a task may run before it is stopped (a task's timeout overrides it; 0: none)",
  },
  max_memory: {
    type: "float",
    min: 0,
    check: (_value, values) =>
      values.mode === "inline"
        ? "applies to thread and process workers (mode = inline runs tasks on the scheduler's thread)"
        : undefined,
    description:
      "JavaScript heap limit of each worker, in GiB (a task's maxMemory overrides it; 0: none)",
  },
  start_method: {
    type: "string",
    default: "fork",
    choices: ["fork", "spawn", "forkserver"],
    description: "Accepted for compatibility; Node starts every worker afresh",
  },
} satisfies OptionSchema;

/** Parsed options of a local executor. */
export type LocalOptions = OptionValues<typeof LOCAL_SCHEMA>;
