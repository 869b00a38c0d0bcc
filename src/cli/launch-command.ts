/**
 * `redun launch --executor NAME [--wait] [-o option=value]... -- [redun] run FILE TASK
 * --arg ...`: starts a whole `redun run` as one job on an executor and returns at once (or,
 * with `--wait`, follows it and prints its result), as Python redun's `launch` does.
 *
 * - A local executor (`type = local`) runs it as a detached `redun run` process that
 *   outlives this command (its output goes to `.redun/launch/ID.log`).
 * - A remote executor (docker, aws_batch, …) runs it through the remote job protocol: the
 *   job's body is a scheduler of its own (the body of `subrun`) that records an execution
 *   of its own, with this configuration, to the configured database, which must therefore
 *   be reachable from the job. The launcher itself writes nothing to any database.
 *   With `--wait` it is a `subrun` of the call instead, so the run's records come back
 *   with its result even when the database is a local SQLite file.
 */
import { randomUUID } from "node:crypto";
import { childProcess } from "../values/lazy-builtins.ts";
import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import type { Config } from "../config/config.ts";
import { UsageError } from "./error-report.ts";
import { loadCliConfig, type GlobalOptions } from "./global.ts";
import { PACKAGE_ROOT } from "../values/package-root.ts";

/** Options of `redun launch`. */
interface LaunchOptions {
  executor: string;
  wait?: boolean;
  option?: string[];
  codePackage?: boolean;
}

const BIN = path.join(PACKAGE_ROOT, "bin", "redun.mjs");

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The `redun run` words: `[redun] run [run options] FILE TASK [args...]`. */
interface RunWords {
  /** Everything after `run`. */
  runArgv: string[];
  cache: boolean;
  options: string[];
  context: string[];
  contextFile?: string;
  file: string;
  task: string;
  taskArgv: string[];
}

function parseRunWords(words: string[]): RunWords {
  const rest = words[0] === "redun" ? words.slice(1) : [...words];
  if (rest[0] !== "run") {
    throw new UsageError(
      `redun launch: expected a "redun run FILE TASK ..." command after the options, got "${words.join(" ")}"`,
    );
  }
  const runArgv = rest.slice(1);
  const out: Omit<RunWords, "file" | "task" | "taskArgv"> = {
    runArgv,
    cache: true,
    options: [],
    context: [],
  };
  let i = 0;
  for (; i < runArgv.length && runArgv[i]!.startsWith("-"); i++) {
    const word = runArgv[i]!;
    const value = () => {
      const v = runArgv[++i];
      if (v === undefined) throw new UsageError(`redun launch: ${word} needs a value`);
      return v;
    };
    if (word === "--no-cache") out.cache = false;
    else if (word === "-o" || word === "--option") out.options.push(value());
    else if (word === "--context") out.context.push(value());
    else if (word === "--context-file") out.contextFile = value();
    else throw new UsageError(`redun launch: the run option ${word} is not supported here`);
  }
  const [file, task, ...taskArgv] = runArgv.slice(i);
  if (!file || !task) throw new UsageError("redun launch: the run command needs FILE and TASK");
  return { ...out, file, task, taskArgv };
}

/** A detached `redun run` on this machine (a local executor). */
async function launchLocal(
  config: Config,
  global: GlobalOptions,
  words: RunWords,
  wait: boolean,
): Promise<number> {
  const argv = [BIN, "--config", config.configDir, "run", ...words.runArgv];
  if (wait) {
    const child = childProcess().spawn(process.execPath, argv, {
      stdio: "inherit",
      env: process.env,
    });
    return new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (code) => resolve(code ?? 1));
    });
  }
  const id = randomUUID().slice(0, 8);
  const logDir = path.join(config.configDir, "launch");
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${id}.log`);
  const fd = fs.openSync(logFile, "a");
  const child = childProcess().spawn(process.execPath, argv, {
    detached: true,
    stdio: ["ignore", fd, fd],
    env: process.env,
  });
  fs.closeSync(fd);
  child.unref();
  void global;
  process.stdout.write(
    `launched ${id}: redun run ${words.runArgv.join(" ")} (pid ${child.pid})\n` +
      `follow it: tail -f ${logFile}\n`,
  );
  return 0;
}

/** The arguments of the task call, parsed as `redun run` parses them. */
async function taskCall(words: RunWords) {
  const { importWorkflow, resolveTask, parseTaskOptions, parseRunContext, cliPath, taskParams } =
    await import("./run.ts");
  const { parseTaskArgs } = await import("./task-args.ts");
  const { File, Dir } = await import("../files/file.ts");
  const modulePath = await importWorkflow(words.file);
  const task = resolveTask(words.task, modulePath);
  const params = taskParams(task, modulePath);
  const args = parseTaskArgs(task.fullname, params, words.taskArgv, {
    file: (p) => new File(cliPath(p)),
    dir: (p) => new Dir(cliPath(p)),
  });
  const options = parseTaskOptions(words.options);
  const expr = Object.keys(options).length ? task.options(options)(...args) : task(...args);
  return { expr, context: parseRunContext(words.contextFile, words.context) };
}

/** A run on a remote executor: fire and forget, or (`--wait`) a subrun followed to the end. */
async function launchRemote(
  config: Config,
  global: GlobalOptions,
  executorName: string,
  words: RunWords,
  options: LaunchOptions,
): Promise<number> {
  const backend = config.backend;
  if (!options.wait && backend.dialect === "sqlite") {
    throw new UsageError(
      `redun launch: the database ${backend.dbUri} is a SQLite file on this machine, which a ` +
        `job on executor "${executorName}" cannot reach: use a database the job can reach ` +
        "(db_uri = postgresql://...), or --wait (the run's records then come back with its result)",
    );
  }
  const { parseTaskOptions, formatResult } = await import("./run.ts");
  const launchOptions = parseTaskOptions(options.option);
  const { expr, context } = await taskCall(words);
  const { subrun, subrunTask } = await import("../scheduler/subrun.ts");
  const { createScheduler } = await import("./setup.ts");
  const scheduler = await createScheduler(config, global);
  // Closing the scheduler stops its executors, and an executor that stops cancels the jobs
  // it still runs (AWS Batch terminates them): a launched job must outlive this command.
  let detached = false;
  try {
    if (options.wait) {
      const result = await scheduler.run(subrun(expr, executorName, launchOptions), {
        cache: words.cache,
        context,
        description: ["launch", "--executor", executorName, "--wait", "run", ...words.runArgv],
      });
      process.stdout.write(formatResult(result) + "\n");
      return 0;
    }
    const { loadExecutorType } = await import("../executors/executor.ts");
    await loadExecutorType(config.executors[executorName]!.type);
    const executor = scheduler.getExecutor(executorName);
    const { Delayed } = await import("../expressions/helpers.ts");
    const { hashParts } = await import("../values/hash.ts");
    const launchId = randomUUID();
    const evalHash = hashParts(["launch", launchId]);
    const spec = {
      config: config.toData(),
      newExecution: true,
      executionId: launchId,
      cache: words.cache,
      dryrun: false,
      context: context ?? {},
      exportOptions: {},
      database: (await import("../backend/from-config.ts")).backendOptionsFromConfig(backend),
      description: ["run", ...words.runArgv],
    };
    const running = executor.submit({
      jobId: randomUUID(),
      executionId: launchId,
      evalHash,
      task: subrunTask,
      args: [new Delayed(expr), executorName, spec],
      options: { ...launchOptions, executor: executorName },
    });
    const started = await startedOrFailed(config, executorName, evalHash, running);
    detached = true;
    process.stdout.write(
      `launched execution ${launchId} on executor "${executorName}" (${started.job ?? `job ${evalHash.slice(0, 16)}`}, ${started.state})\n` +
        `follow it: redun log ${launchId}` +
        (started.job?.startsWith("AWS Batch job ")
          ? `  (or: aws batch describe-jobs --jobs ${started.job.slice("AWS Batch job ".length)})`
          : "") +
        "\n",
    );
    return 0;
  } finally {
    if (!detached) await scheduler.close();
  }
}

/**
 * Waits until the job has started (its status in the scratch space says so, or the
 * executor has its id) or failed, so the command returns once the run is underway.
 * Returns its state, and the executor's id of the job when it writes one (AWS Batch).
 */
async function startedOrFailed(
  config: Config,
  executorName: string,
  evalHash: string,
  running: Promise<unknown>,
): Promise<{ state: string; job?: string }> {
  const { jobPaths, jobDir, readScratchJson, readStatus, scratchJoin } =
    await import("../executors/remote/scratch.ts");
  const values = config.executorOptions(executorName)?.values ?? {};
  const scratch = (values.scratch ?? values.s3_scratch) as string | undefined;
  let failure: unknown;
  let settled = false;
  running.then(
    () => (settled = true),
    (error: unknown) => {
      settled = true;
      failure = error;
    },
  );
  for (;;) {
    if (failure !== undefined) {
      throw new UsageError(
        `redun launch: the job on executor "${executorName}" failed: ${(failure as Error).message ?? failure}`,
      );
    }
    if (settled) return { state: "finished" };
    if (scratch) {
      const record = await readScratchJson<{ jobId?: unknown }>(
        scratchJoin(jobDir(scratch, evalHash), "batch-job"),
      ).catch(() => undefined);
      const job = typeof record?.jobId === "string" ? `AWS Batch job ${record.jobId}` : undefined;
      const status = await readStatus(jobPaths(scratch, evalHash).status);
      if (status) return { state: status.toLowerCase(), job };
      if (job) return { state: "submitted", job };
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Adds `redun launch`. */
export function launchCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command("launch")
    .description("start a whole `redun run` as one job on an executor")
    .requiredOption("--executor <name>", "the executor to run it on")
    .option("--wait", "wait for the run and print its result")
    .option("-o, --option <key=value>", "task option for the launch job (repeatable)", collect)
    .option("--code-package", "ship the code (default: the executor's code_package)")
    .argument("<command...>", "the command: [redun] run [--no-cache] FILE TASK [--arg value]...")
    .passThroughOptions()
    .allowUnknownOption()
    .action(async (command: string[], options: LaunchOptions) => {
      const global = program.opts<GlobalOptions>();
      const config = loadCliConfig(global);
      const words = parseRunWords(command);
      const section = config.executors[options.executor];
      const builtin = options.executor === "default" || options.executor === "process";
      if (!section && !builtin) {
        const known = Object.keys(config.executors);
        throw new UsageError(
          `redun launch: executor "${options.executor}" is not defined (add an [executors.${options.executor}] section` +
            (known.length ? `; defined: ${known.join(", ")}` : "") +
            ")",
        );
      }
      setExitCode(
        !section || section.type === "local"
          ? await launchLocal(config, global, words, Boolean(options.wait))
          : await launchRemote(config, global, options.executor, words, options),
      );
    });
}
