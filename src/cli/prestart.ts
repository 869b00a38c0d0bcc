/**
 * Starting `redun run`'s workers early. Most runs' first jobs go to the default executor, a
 * local worker pool unless configured otherwise; a worker takes about as long to start
 * (thread, redun, TypeScript support, the workflow) as the command itself takes to load
 * the scheduler. Started before that, it is ready when the first job comes.
 */
import path from "node:path";
import { BUILTIN_EXECUTORS } from "../config/config.ts";
import { loadCliConfig, type GlobalOptions } from "./global.ts";

/**
 * Starts the default executor's pool, with a worker importing the workflow, when that
 * executor is a local one. Anything wrong (the configuration, the file) is left for the
 * command itself to report: this only starts work early.
 */
export async function prestartWorkers(global: GlobalOptions, workflowFile: string): Promise<void> {
  try {
    const config = loadCliConfig(global);
    const section = config.executors.default ?? BUILTIN_EXECUTORS.default;
    if (section?.type !== "local") return;
    const { prestartLocalPool } = await import("../executors/local/local.ts");
    prestartLocalPool(section.options, [path.resolve(workflowFile)]);
  } catch {
    // Reported by the command.
  }
}
