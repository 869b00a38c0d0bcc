/**
 * The alias executor (`type = alias`): a symlink to another executor, resolved when a job
 * is submitted, so it may name executors defined later (or by `setup_scheduler`).
 */
import type { OptionSchema } from "../config/option-schema.ts";
import type { Executor, ExecutorContext, ExecutorFactory, JobSpec } from "./executor.ts";
import { parseExecutorOptions } from "./parse-options.ts";

/** `type = alias`: another executor, resolved lazily. */
export const ALIAS_SCHEMA = {
  target: { type: "string", required: true, description: "The executor to defer to" },
} satisfies OptionSchema;

/** Forwards every job to the executor named by `target`. */
export class AliasExecutor implements Executor {
  constructor(
    readonly name: string,
    readonly target: string,
    private readonly context: ExecutorContext,
  ) {}

  /** The executor this alias finally points to (following chains of aliases). */
  resolve(): Executor {
    const seen = [this.name];
    let executor: Executor = this;
    while (executor instanceof AliasExecutor) {
      const next = executor.target;
      if (seen.includes(next)) {
        throw new Error(`executor aliases form a cycle: ${[...seen, next].join(" -> ")}`);
      }
      seen.push(next);
      executor = this.context.getExecutor(next);
    }
    return executor;
  }

  submit(job: JobSpec): Promise<unknown> {
    return this.resolve().submit(job);
  }

  async stop(): Promise<void> {
    // The target is stopped by whoever owns it.
  }
}

/** Creates an alias executor from its `[executors.NAME]` options (registered as `alias`). */
export const createAliasExecutor: ExecutorFactory = (name, raw, context) => {
  const { target } = parseExecutorOptions("alias", name, raw, ALIAS_SCHEMA) as { target: string };
  return new AliasExecutor(name, target, context);
};
