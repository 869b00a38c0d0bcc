/**
 * How the command line reports errors: one clear line, never a stack trace of the engine.
 */
import path from "node:path";
import { DatabaseUnavailableError } from "../backend/retry.ts";
import { failureInfo } from "../scheduler/failure.ts";
import { RedunError } from "../values/errors.ts";
import { registerErrorClass } from "../values/serialize.ts";
import { CODE_DIR } from "../values/package-root.ts";

/** An error in what the user asked for (file, task, argument, option). */
export class UsageError extends RedunError {
  override name = "UsageError";
  override get code() {
    return "REDUN_USAGE" as const;
  }
}
registerErrorClass(UsageError);

/** The stack frames of an error that belong to the user's code (not Node's, not ours). */
function userFrames(error: Error): string[] {
  return (error.stack ?? "")
    .split("\n")
    .filter((line) => /^\s+at /.test(line))
    .filter(
      (line) =>
        !line.includes(CODE_DIR) && !line.includes("node:") && !line.includes("/node_modules/"),
    )
    .slice(0, 8);
}

/** Formats an error for the terminal: task failures show the user's frames, the rest one line. */
export function formatError(error: unknown): string {
  if (!(error instanceof Error)) return `redun: error: ${String(error)}\n`;
  // An unreachable database fails the run wherever it was met (a job's cache lookup, the
  // last flush): it is never a task's failure. By name too: the error may come from
  // another copy of the engine's modules.
  if (error instanceof DatabaseUnavailableError || error.name === "DatabaseUnavailableError")
    return `redun: error: ${error.message}\n`;
  const failure = failureInfo(error);
  if (failure) {
    const frames = userFrames(error);
    return (
      `redun: task "${failure.task}" failed (job ${failure.jobId.slice(0, 8)}): ${error.name}: ${error.message}\n` +
      (frames.length ? frames.join("\n") + "\n" : "")
    );
  }
  const debug = process.env.REDUN_DEBUG ? `\n${error.stack}` : "";
  return `redun: error: ${error.message}${debug}\n`;
}
