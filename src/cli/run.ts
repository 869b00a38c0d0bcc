/**
 * `redun run FILE TASK [--arg value ...]`: import a workflow, parse the task's arguments
 * from its TypeScript signature, evaluate it, print the result.
 */
import fs from "node:fs";
import path from "node:path";
import { inspect } from "node:util";
import { allTasks, findTask, taskParameters, type Task } from "../api/task.ts";
import { contextAt, mergeContext, type JobContext } from "../api/job-context.ts";
import { validateTaskOptions } from "../api/option-validation.ts";
import { toCamelCase, type CallTaskOptions } from "../api/options.ts";
import { DryRunResult, type Scheduler } from "../scheduler/scheduler.ts";
import { INTERRUPT_GRACE_MS, SIGNAL_EXIT_CODES } from "../scheduler/interrupt.ts";
import { File, Dir } from "../files/file.ts";
import { getFileSystem, isUri } from "../files/filesystem.ts";
import { readTaskSignature, untypedParams } from "./signature.ts";
import { asksForTaskHelp, formatTaskHelp, parseTaskArgs } from "./task-args.ts";
import { importModule } from "../api/workflow-module.ts";
import { UsageError } from "./error-report.ts";
import { LOG_LEVELS, parseTagValue, type LogLevel } from "../config/config.ts";
import { canShowProgress, startProgress } from "./run-progress.ts";
import { createScheduler, loadCliConfig, type GlobalOptions } from "./setup.ts";

/**
 * One line for an error raised while importing a workflow: its first line, or, for a
 * compiler error ("Transform failed with 1 error:"), the line that says where and what
 * (`broken.ts:3:12: Unexpected ";"`), with the path relative to the working directory.
 */
function importErrorLine(error: unknown): string {
  const lines = (error instanceof Error ? error.message : String(error)).split("\n");
  if (!/^Transform failed with \d+ errors?:$/.test(lines[0] ?? "") || !lines[1]) return lines[0]!;
  const located = /^(\/[^:]+):(\d+:\d+): (?:ERROR: )?(.*)$/.exec(lines[1]);
  if (!located) return lines[1];
  return `${path.relative(process.cwd(), located[1]!)}:${located[2]}: ${located[3]}`;
}

/**
 * A task's parameters with their types: the task's own analysis (found by its call site,
 * cached with the task hash's), else a by-name reading of its file, else just their names.
 */
export function taskParams(task: Task, modulePath: string) {
  return (
    taskParameters(task)?.map((p) => p.info) ??
    readTaskSignature(task.modulePath ?? modulePath, {
      functionName: task.func.name,
      taskName: task.name,
    }) ??
    untypedParams(task.paramNames)
  );
}

/** Options of `redun run`. */
export interface RunCommandOptions {
  cache: boolean;
  /** `false` is `--no-prov`. */
  prov: boolean;
  /** `--context-file FILE.json`. */
  contextFile?: string;
  /** `--context a.b=value`, repeatable. */
  context?: string[];
  dryrun?: boolean;
  executionId?: string;
  option?: string[];
  /** `--log-level`: DEBUG, INFO, WARNING or ERROR (any case). */
  logLevel?: string;
  /** `--tag key=value`, repeatable. */
  tag?: string[];
}

/** `--log-level` checked: one of the levels, any case. */
function parseLogLevel(text: string | undefined): LogLevel | undefined {
  if (text === undefined) return undefined;
  const level = text.toUpperCase() as LogLevel;
  if (!LOG_LEVELS.includes(level))
    throw new UsageError(`--log-level expects one of ${LOG_LEVELS.join(", ")}, got "${text}"`);
  return level;
}

/** Imports a workflow file, with a clear error for a missing or broken file. */
export async function importWorkflow(file: string): Promise<string> {
  const resolved = path.resolve(file);
  if (!fs.existsSync(resolved)) throw new UsageError(`workflow file not found: ${file}`);
  try {
    await importModule(resolved);
  } catch (error) {
    throw new UsageError(`cannot import ${file}: ${importErrorLine(error)}`);
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
    const [key, value] = keyAndValue("-o", "key=value", pair);
    options[toCamelCase(key)] = value;
  }
  try {
    validateTaskOptions(options, "-o", true);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return options as CallTaskOptions;
}

/**
 * A `name=value` command-line word split at its first `=`, the value read as JSON when it
 * parses and as a string otherwise.
 */
function keyAndValue(flag: string, shape: string, pair: string): [string, unknown] {
  const eq = pair.indexOf("=");
  if (eq <= 0) throw new UsageError(`${flag} expects ${shape}, got "${pair}"`);
  return [pair.slice(0, eq), parseTagValue(pair.slice(eq + 1))];
}

/** `--tag key=value` (values read as JSON when they parse, else as strings). */
export function parseRunTags(pairs: readonly string[] = []): Record<string, unknown> {
  return Object.fromEntries(pairs.map((pair) => keyAndValue("--tag", "key=value", pair)));
}

/**
 * The run's context from `--context-file FILE.json` and `--context a.b=value` (values read as
 * JSON when they parse, else as strings), later ones merged over earlier ones.
 */
export function parseRunContext(
  file: string | undefined,
  pairs: readonly string[] = [],
): Record<string, unknown> | undefined {
  let context: JobContext | undefined;
  if (file !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (error) {
      throw new UsageError(`--context-file ${file}: ${(error as Error).message}`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new UsageError(`--context-file ${file}: expected a JSON object`);
    }
    context = parsed as JobContext;
  }
  for (const pair of pairs) {
    const [dottedPath, value] = keyAndValue("--context", "path=value", pair);
    try {
      context = mergeContext(context ?? {}, contextAt(dottedPath, value));
    } catch (error) {
      throw new UsageError(`--context: ${(error as Error).message}`);
    }
  }
  return context as Record<string, unknown> | undefined;
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
  const logLevel = parseLogLevel(options.logLevel);
  const config = loadCliConfig(global);
  const level = logLevel ?? config.scheduler.logLevel;
  const quiet = level === "WARNING" || level === "ERROR";
  if (!quiet) process.stderr.write(`[redun] Config dir: ${config.configDir}\n`);
  const modulePath = await importWorkflow(file);
  const task = resolveTask(taskName, modulePath);
  const params = taskParams(task, modulePath);
  if (asksForTaskHelp(taskArgv)) {
    process.stdout.write(formatTaskHelp(task.fullname, params, undefined, file) + "\n");
    return 0;
  }
  const args = parseTaskArgs(task.fullname, params, taskArgv, {
    file: (p) => new File(cliPath(p)),
    dir: (p) => new Dir(cliPath(p)),
  });
  const callOptions = parseTaskOptions(options.option);
  const context = parseRunContext(options.contextFile, options.context);
  const scheduler = await createScheduler(config, global);
  if (logLevel) scheduler.setLogLevel(logLevel);
  const signals = interruptOn(scheduler);
  const stopProgress =
    !quiet && canShowProgress(process.stderr) ? await startProgress(scheduler) : undefined;
  try {
    const result = await scheduler.run(task(...(args as any[])), {
      cache: options.cache,
      dryrun: options.dryrun,
      executionId: options.executionId,
      // The whole command line after `redun` (bin/redun.mjs passes process.argv to main).
      description: process.argv.slice(2),
      options: callOptions,
      context,
      prov: options.prov,
      tags: parseRunTags(options.tag),
    });
    process.stdout.write(formatResult(result) + "\n");
    // Every job finished within the grace period: the result stands, but the command still
    // says it was interrupted (a `redun run … && next` must not go on to `next`).
    if (signals.received !== undefined) {
      process.stderr.write(`[redun] Interrupted by ${signals.received}: the run finished first.\n`);
      return SIGNAL_EXIT_CODES[signals.received] ?? 130;
    }
    return 0;
  } catch (error) {
    if (error instanceof DryRunResult) {
      // As redun does: 1 when something would run, so a script can tell "up to date".
      process.stdout.write(`Dry run: ${error.message}\n`);
      return 1;
    }
    // Interrupted, the run ends with the jobs it could not finish: that is no task's fault.
    if (signals.received !== undefined) {
      const { INTERRUPTED } = scheduler.status.totals();
      process.stderr.write(
        `[redun] Interrupted by ${signals.received}: finished jobs are recorded; ` +
          `${INTERRUPTED} job(s) were interrupted and will run again next time.\n`,
      );
      return SIGNAL_EXIT_CODES[signals.received] ?? 130;
    }
    throw error;
  } finally {
    stopProgress?.();
    signals.remove();
    await scheduler.close();
  }
}

/**
 * Ctrl-C and SIGTERM interrupt the run: the first lets running jobs finish for a moment,
 * a second stops them now. Either way the run ends through `scheduler.run`, which records
 * what happened, and the command exits with 130 (SIGINT) or 143 (SIGTERM).
 */
function interruptOn(scheduler: Scheduler): { received?: string; remove(): void } {
  const state: { received?: string; remove(): void } = {
    remove: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
  function onSignal(signal: NodeJS.Signals) {
    state.received ??= signal;
    if (scheduler.interrupt(signal) === "graceful") {
      process.stderr.write(
        `\n[redun] Interrupted (${signal}): no new jobs; waiting up to ` +
          `${INTERRUPT_GRACE_MS / 1000} s for running jobs (interrupt again to stop them now).\n`,
      );
    } else {
      process.stderr.write(`\n[redun] Stopping running jobs now.\n`);
    }
  }
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return state;
}
