/**
 * The body of `redun oneshot`: runs one job where a remote executor started it. Unpacks the
 * code package, imports the task's module, reads the serialized call, runs the task, and
 * writes the output (or the error) and the status to the scratch space.
 *
 * Exit codes: 0 the task succeeded; 1 the task failed (error written); 2 oneshot could not
 * run the task (bad input, code missing — also written as an error when possible).
 */
import fs from "node:fs";
import path from "node:path";
import { getTask } from "../../api/task.ts";
import { decodeValue, encodeValue, type Wire } from "../../values/serialize.ts";
import { importTaskModules } from "../modules.ts";
import { runTask } from "../run-task.ts";
import { CodePackageError, extractCodePackage, fallbackCodeDir } from "./code-package.ts";
import { ENGINE_MODULE_PREFIX, engineModuleFile, rewriteModulePaths } from "./remote-job.ts";
import {
  jobPaths,
  readScratchJson,
  scratchOfArrayJobs,
  siblingPaths,
  writeScratchJson,
  writeStatus,
  type JobPaths,
  type RemoteJobInput,
} from "./scratch.ts";
import { RedunError } from "../../values/errors.ts";
import { CODE_DIR } from "../../values/package-root.ts";
import { registerErrorClass } from "../../values/serialize.ts";

/** Arguments of `redun oneshot`. */
export interface OneshotOptions {
  /** The job's `input` (path or URI). With `arrayJobs`, ignored. */
  input?: string;
  /** Default: beside the input. */
  output?: string;
  error?: string;
  status?: string;
  /** The code package (path or URI); without it, the code must be in the working directory. */
  code?: string;
  /** `SCRATCH/array/ID/jobs`: this process runs the child whose index the environment gives. */
  arrayJobs?: string;
  /** Where the code is unpacked (default: the working directory). */
  cwd?: string;
  /** Where progress and failures are reported (default: standard error). */
  log?: (line: string) => void;
}

/** A failure of oneshot itself (not of the task): exit code 2. */
export class OneshotError extends RedunError {
  override name = "OneshotError";
  override get code() {
    return "REDUN_ONESHOT" as const;
  }
}
registerErrorClass(OneshotError);

/** The index of this array child, from AWS Batch or Kubernetes. */
export function arrayIndexFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  for (const value of [
    env.AWS_BATCH_JOB_ARRAY_INDEX,
    env.JOB_COMPLETION_INDEX,
    /:(\d+)$/.exec(env.AWS_BATCH_JOB_ID ?? "")?.[1],
  ]) {
    if (value !== undefined && /^\d+$/.test(value)) return Number(value);
  }
  return undefined;
}

/** The job paths oneshot uses, from its options (and, for arrays, the environment). */
export async function resolveOneshotPaths(options: OneshotOptions): Promise<JobPaths> {
  let base: JobPaths;
  if (options.arrayJobs) {
    const hashes = await readScratchJson<string[]>(options.arrayJobs);
    if (!Array.isArray(hashes)) {
      throw new OneshotError(`the array job list ${options.arrayJobs} does not exist`);
    }
    const index = arrayIndexFromEnv();
    if (index === undefined) {
      throw new OneshotError(
        "--array-jobs needs the child's index in AWS_BATCH_JOB_ARRAY_INDEX, " +
          "JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ID (NAME:INDEX)",
      );
    }
    const hash = hashes[index];
    if (typeof hash !== "string") {
      throw new OneshotError(
        `array index ${index} is out of range: ${options.arrayJobs} lists ${hashes.length} jobs`,
      );
    }
    base = jobPaths(scratchOfArrayJobs(options.arrayJobs), hash);
  } else {
    if (!options.input) throw new OneshotError("oneshot needs --input (or --array-jobs)");
    base = siblingPaths(options.input);
  }
  return {
    ...base,
    output: options.output ?? base.output,
    error: options.error ?? base.error,
    status: options.status ?? base.status,
  };
}

/** The remote stack without the engine's own frames (they say nothing to the user). */
function userStack(error: Error): string | undefined {
  if (!error.stack) return error.stack;
  return error.stack
    .split("\n")
    .filter(
      (line) =>
        !/^\s+at /.test(line) || (!line.includes(CODE_DIR) && !line.includes("node:internal")),
    )
    .join("\n");
}

function encodeError(error: unknown): Wire {
  const err = error instanceof Error ? error : new Error(String(error));
  try {
    const stack = userStack(err);
    if (stack !== err.stack) {
      Object.defineProperty(err, "stack", { value: stack, writable: true, configurable: true });
    }
  } catch {
    // a frozen error keeps its stack
  }
  try {
    return encodeValue(err, "error");
  } catch {
    return encodeValue(new Error(err.message));
  }
}

/** Where to unpack the code: the working directory when writable, else a temp folder. */
function unpackRoot(cwd: string): string {
  try {
    fs.accessSync(cwd, fs.constants.W_OK);
    return cwd;
  } catch {
    return fallbackCodeDir();
  }
}

/** Runs one job; returns the exit code (0 done, 1 task failed, 2 oneshot failed). */
export async function oneshot(options: OneshotOptions): Promise<number> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
  let paths: JobPaths | undefined;
  let taskName = "?";
  let stage: "setup" | "task" = "setup";
  try {
    paths = await resolveOneshotPaths(options);
    await writeStatus(paths.status, "RUNNING");
    const input = await readScratchJson<RemoteJobInput>(paths.input);
    if (!input) throw new OneshotError(`the job input ${paths.input} does not exist`);
    if (input.version !== 1 || typeof input.task !== "string" || typeof input.module !== "string") {
      throw new OneshotError(`the job input ${paths.input} is not a redun job input (version 1)`);
    }
    taskName = input.task;
    const cwd = path.resolve(options.cwd ?? process.cwd());
    let codeDir = cwd;
    if (options.code) {
      try {
        codeDir = await extractCodePackage(options.code, unpackRoot(cwd));
      } catch (error) {
        if (error instanceof CodePackageError) throw new OneshotError(error.message);
        throw error;
      }
    }
    // Jobs of redun's own tasks (subrun) import them from the redun that runs oneshot.
    const moduleFile = input.module.startsWith(ENGINE_MODULE_PREFIX)
      ? (engineModuleFile(input.module) ?? input.module)
      : path.join(codeDir, ...input.module.split("/"));
    // Where the workflow's code is, for paths relative to it (a federated load_module).
    process.env.REDUN_CODE_DIR = codeDir;
    if (!fs.existsSync(moduleFile)) {
      throw new OneshotError(
        options.code
          ? `the module ${input.module} of task "${input.task}" is not in the code package ${options.code}`
          : `the module ${input.module} of task "${input.task}" is not at ${moduleFile}: without a ` +
              "code package (code_package = false) the image must contain the workflow at the " +
              "same path relative to its working directory",
      );
    }
    log(`[redun] oneshot: task ${input.task} (${input.module})`);
    const args = rewriteModulePaths(input.args, input.codeRoot, codeDir);
    const optionsWire = input.options && rewriteModulePaths(input.options, input.codeRoot, codeDir);
    await importTaskModules(args, [moduleFile]);
    const task = getTask(input.task);
    if (!task) {
      throw new OneshotError(`task "${input.task}" is not defined after importing ${moduleFile}`);
    }
    const callArgs = decodeValue(args) as unknown[];
    const callOptions = optionsWire ? (decodeValue(optionsWire) as Record<string, unknown>) : {};
    stage = "task";
    const result = await runTask(task, callArgs, callOptions);
    const wire = rewriteModulePaths(
      encodeValue(result, `result of task "${input.task}"`),
      codeDir,
      input.codeRoot,
    );
    await writeScratchJson(paths.output, wire);
    await writeStatus(paths.status, "DONE");
    return 0;
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    log(
      stage === "task"
        ? `[redun] oneshot: task ${taskName} failed: ${message}`
        : `[redun] oneshot: cannot run task ${taskName}: ${message}`,
    );
    if (stage === "task" && error instanceof Error && error.stack) log(userStack(error) ?? "");
    if (paths) {
      try {
        await writeScratchJson(paths.error, encodeError(error));
        await writeStatus(paths.status, "FAILED");
      } catch (writeError) {
        log(
          `[redun] oneshot: cannot write the error to ${paths.error}: ${(writeError as Error).message}`,
        );
      }
    }
    return stage === "task" ? 1 : 2;
  }
}
