/**
 * `redun run FILE TASK [--arg value ...]`: import a workflow, parse the task's arguments
 * from its TypeScript signature, evaluate it, print the result.
 */
import fs from "node:fs";
import path from "node:path";
import { inspect } from "node:util";
import { pathToFileURL } from "node:url";
import { allTasks, findTask, type Task } from "../api/task.ts";
import { toCamelCase, type CallTaskOptions } from "../api/options.ts";
import { DryRunResult } from "../scheduler/scheduler.ts";
import { File, Dir } from "../files/file.ts";
import { getFileSystem, isUri } from "../files/filesystem.ts";
import { readTaskSignature, untypedParams } from "./signature.ts";
import { formatTaskHelp, parseTaskArgs } from "./task-args.ts";
import { UsageError } from "./errors.ts";
import { createScheduler, loadCliConfig, type GlobalOptions } from "./setup.ts";

/** Options of `redun run`. */
export interface RunCommandOptions {
  cache: boolean;
  dryrun?: boolean;
  executionId?: string;
  option?: string[];
}

/** Imports a workflow file, with a clear error for a missing or broken file. */
export async function importWorkflow(file: string): Promise<string> {
  const resolved = path.resolve(file);
  if (!fs.existsSync(resolved)) throw new UsageError(`workflow file not found: ${file}`);
  try {
    await import(pathToFileURL(resolved).href);
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new UsageError(`cannot import ${file}: ${message}`);
  }
  return resolved;
}

/** Finds a task by full or short name, with a message listing the tasks in the file. */
export function resolveTask(name: string, file: string): Task {
  let task: Task | undefined;
  try {
    task = findTask(name);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (!task) {
    const inFile = allTasks()
      .filter((t) => t.modulePath === file)
      .map((t) => t.fullname);
    throw new UsageError(
      `task "${name}" not found in ${path.relative(process.cwd(), file) || file}` +
        (inFile.length ? ` (its tasks: ${inFile.join(", ")})` : " (it defines no tasks)"),
    );
  }
  return task;
}

/** `-o key=value` pairs to task options (values parsed as JSON when they parse). */
export function parseTaskOptions(pairs: readonly string[] = []): CallTaskOptions {
  const options: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`-o expects key=value, got "${pair}"`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // A plain string.
    }
    options[toCamelCase(pair.slice(0, eq))] = value;
  }
  return options as CallTaskOptions;
}

/**
 * A path or URI from the command line: a URI (`s3://…`, `https://…`, `file://…`) as it is,
 * once its scheme is known to be served; a local path made absolute.
 */
export function cliPath(word: string): string {
  if (!isUri(word)) return path.resolve(word);
  try {
    getFileSystem(word);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return word;
}

/** Formats a result for printing: strings as they are, everything else inspected. */
export function formatResult(value: unknown): string {
  return typeof value === "string"
    ? value
    : inspect(value, { depth: null, colors: false, maxArrayLength: 1000 });
}

/** Runs `redun run`; returns the exit code. */
export async function runCommand(
  global: GlobalOptions,
  file: string,
  taskName: string,
  taskArgv: string[],
  options: RunCommandOptions,
): Promise<number> {
  const config = loadCliConfig(global);
  process.stderr.write(`[redun] Config dir: ${config.configDir}\n`);
  const modulePath = await importWorkflow(file);
  const task = resolveTask(taskName, modulePath);
  const params =
    readTaskSignature(task.modulePath ?? modulePath, {
      functionName: task.func.name,
      taskName: task.name,
    }) ?? untypedParams(task.paramNames);
  if (taskArgv.includes("--help") || taskArgv.includes("-h")) {
    process.stdout.write(formatTaskHelp(task.fullname, params) + "\n");
    return 0;
  }
  const args = parseTaskArgs(task.fullname, params, taskArgv, {
    file: (p) => new File(cliPath(p)),
    dir: (p) => new Dir(cliPath(p)),
  });
  const callOptions = parseTaskOptions(options.option);
  const scheduler = await createScheduler(config, global);
  const interrupt = () => {
    process.stderr.write("\n[redun] Interrupted: recording finished jobs, then exiting.\n");
    void scheduler.close().finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);
  try {
    const result = await scheduler.run(task(...(args as any[])), {
      cache: options.cache,
      dryrun: options.dryrun,
      executionId: options.executionId,
      description: ["redun", "run", file, taskName, ...taskArgv],
      options: callOptions,
    });
    process.stdout.write(formatResult(result) + "\n");
    return 0;
  } catch (error) {
    if (error instanceof DryRunResult) {
      process.stdout.write(`Dry run: ${error.message}\n`);
      return 0;
    }
    throw error;
  } finally {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
    await scheduler.close();
  }
}
