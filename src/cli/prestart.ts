/**
 * Starting `redun run`'s workers early, when the run is sure to run jobs. Most runs' first
 * jobs go to the default executor, a local worker pool unless configured otherwise; a
 * worker takes about as long to start (thread, redun, TypeScript support, the workflow) as
 * the command itself takes to load the scheduler. Started before that, it is ready when the
 * first job comes. A run replayed from the cache would only pay for it (on Node 20 a quarter
 * of a cached one-task run's time: there each thread's TypeScript hooks run on a thread of
 * their own), so it is started early only when nothing can be replayed: with `--no-cache`,
 * or when the SQLite database does not exist yet. Otherwise the pool starts its first worker
 * with the first job, which comes within 0.1–0.2 s of the run's start.
 */
import fs from "node:fs";
import path from "node:path";
import { BUILTIN_EXECUTORS } from "../config/config.ts";
import { loadCliConfig, type GlobalOptions } from "./global.ts";

/**
 * Starts the default executor's pool, with a worker importing the workflow, when that
 * executor is a local one and the run cannot be replayed from the cache (`useCache` false,
 * or a database with nothing recorded). Anything wrong (the configuration, the file) is
 * left for the command itself to report: this only starts work early.
 */
export async function prestartWorkers(
  global: GlobalOptions,
  workflowFile: string,
  useCache: boolean,
): Promise<void> {
  try {
    const config = loadCliConfig(global);
    if (useCache && !nothingToReplay(config.backend.sqlitePath)) return;
    const section = config.executors.default ?? BUILTIN_EXECUTORS.default;
    if (section?.type !== "local") return;
    const { prestartLocalPool } = await import("../executors/local/local.ts");
    prestartLocalPool(section.options, [path.resolve(workflowFile)]);
  } catch {
    // Reported by the command.
  }
}

/** Whether the database is one with no calls recorded: a SQLite file not made yet, or in memory. */
function nothingToReplay(sqlitePath: string | undefined): boolean {
  return sqlitePath !== undefined && (sqlitePath === ":memory:" || !fs.existsSync(sqlitePath));
}
