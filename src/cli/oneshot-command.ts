/**
 * `redun oneshot`: runs one job of a remote executor (docker, aws_batch, …) where the job
 * runs. The work is in src/executors/remote/oneshot.ts; this is the command line.
 */
import type { Command } from "commander";

/** Adds the `oneshot` command. */
export function oneshotCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command("oneshot")
    .description("run one job of a remote executor (used inside containers)")
    .option("--input <path>", "the job's input (path or URI)")
    .option("--output <path>", "where to write the output (default: beside the input)")
    .option("--error <path>", "where to write the error (default: beside the input)")
    .option("--status <path>", "where to write the status (default: beside the input)")
    .option("--code <path>", "code package to unpack before importing (path or URI)")
    .option("--array-jobs <path>", "array job list; the index comes from the environment")
    .action(async (options: Record<string, string | undefined>) => {
      const { oneshot } = await import("../executors/remote/oneshot.ts");
      setExitCode(
        await oneshot({
          input: options.input,
          output: options.output,
          error: options.error,
          status: options.status,
          code: options.code,
          arrayJobs: options.arrayJobs,
        }),
      );
    });
}
