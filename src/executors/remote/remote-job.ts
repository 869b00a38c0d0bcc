/**
 * What every remote executor (docker, aws_batch, …) does around a job: package the code
 * and write the serialized call to the scratch space before the job starts
 * ({@link prepareRemoteJob}), and read back its output or error afterwards
 * ({@link collectRemoteResult}). The executor only has to run the command line it is given
 * where the job runs, and tell how it ended.
 */
import fs from "node:fs";
import path from "node:path";
import type { JobSpec } from "../executor.ts";
import { importTaskModules } from "../modules.ts";
import { decodeValue, encodeValue, type Wire } from "../../values/serialize.ts";
import { buildCodePackage, uploadCodePackage, type CodePackage } from "./code-package.ts";
import {
  clearJobResult,
  jobPaths,
  readScratchJson,
  readScratchText,
  readStatus,
  tailLines,
  writeScratchJson,
  type JobPaths,
  type RemoteJobInput,
} from "./scratch.ts";
import { RedunError } from "../../values/errors.ts";
import { CODE_DIR } from "../../values/package-root.ts";
import { registerErrorClass } from "../../values/serialize.ts";

/** How an executor packages code and where its scratch space is. */
export interface RemoteJobSettings {
  /** The executor's name (for messages). */
  executorName: string;
  /** Scratch root: an absolute local directory or a URI prefix (`s3://bucket/prefix`). */
  scratch: string;
  /** `code_package`: ship the workflow's code with every job (default true). */
  codePackage?: boolean;
  /** `code_includes` (a shell-quoted string or a list; default: TypeScript sources). */
  codeIncludes?: string | readonly string[];
  /** `code_excludes`. */
  codeExcludes?: string | readonly string[];
  /** The code root (default: the scheduler's working directory). */
  codeRoot?: string;
  /** The command that starts oneshot where the job runs (default `["redun"]`). */
  redunCommand?: readonly string[];
  /**
   * Where built packages are remembered (give each executor instance its own map, so a new
   * scheduler picks up code changes); default: one map for the whole process.
   */
  packageCache?: Map<string, Promise<{ pkg: CodePackage; uri: string }>>;
}

/** A job ready to start. */
export interface PreparedRemoteJob {
  evalHash: string;
  paths: JobPaths;
  /** The code package (path or URI), when code packaging is on. */
  codeUri?: string;
  /** The command line to run where the job runs: `redun oneshot --input … [--code …]`. */
  command: string[];
}

/** redun's own source root (src/ or dist/), where its engine tasks are defined. */
const ENGINE_ROOT = CODE_DIR;
/** How a job input names a module of redun itself: `redun:scheduler/subrun`. */
export const ENGINE_MODULE_PREFIX = "redun:";

/** `redun:DIR/NAME` for a module inside redun (src/ or dist/, no extension), else undefined. */
function engineModuleName(file: string): string | undefined {
  const rel = path.relative(ENGINE_ROOT, file);
  if (rel.startsWith("..") || path.isAbsolute(rel)) return undefined;
  return (
    ENGINE_MODULE_PREFIX +
    rel
      .split(path.sep)
      .join("/")
      .replace(/\.[mc]?[jt]s$/, "")
  );
}

/**
 * The file of an engine module named by {@link engineModuleName}, in this redun; else its
 * index, which defines all of the engine's tasks (the name may come from a redun whose files
 * differ: run from src/, or another build, whose bundled files have other names).
 */
export function engineModuleFile(module: string): string | undefined {
  const base = path.join(ENGINE_ROOT, ...module.slice(ENGINE_MODULE_PREFIX.length).split("/"));
  const index = path.join(ENGINE_ROOT, "index");
  return [base, index]
    .flatMap((file) => [".js", ".ts"].map((ext) => file + ext))
    .find((f) => fs.existsSync(f));
}

/** A task that cannot be shipped (its module is unknown or outside the code root). */
export class RemoteJobError extends RedunError {
  override name = "RemoteJobError";
  override get code() {
    return "REDUN_REMOTE_JOB" as const;
  }
}
registerErrorClass(RemoteJobError);

const processPackages = new Map<string, Promise<{ pkg: CodePackage; uri: string }>>();

/**
 * The code package for these settings, built and uploaded once per cache (the code a
 * scheduler ships does not change while it runs).
 */
export function ensureCodePackage(
  settings: RemoteJobSettings,
): Promise<{ pkg: CodePackage; uri: string }> {
  const root = path.resolve(settings.codeRoot ?? process.cwd());
  const key = JSON.stringify([
    root,
    settings.scratch,
    settings.codeIncludes,
    settings.codeExcludes,
  ]);
  const packages = settings.packageCache ?? processPackages;
  let promise = packages.get(key);
  if (!promise) {
    promise = (async () => {
      const pkg = buildCodePackage(root, {
        includes: settings.codeIncludes ?? undefined,
        excludes: settings.codeExcludes ?? undefined,
        skipDirs: settings.scratch.includes("://") ? [] : [settings.scratch],
      });
      const { path: uri } = await uploadCodePackage(settings.scratch, pkg);
      return { pkg, uri };
    })();
    packages.set(key, promise);
    promise.catch(() => packages.delete(key));
  }
  return promise;
}

/** Task options worth sending (the hash-only `hashIncludes` is not). */
function encodeOptions(options: Readonly<Record<string, unknown>>): Wire | undefined {
  const { hashIncludes: _hashIncludes, ...rest } = options;
  return Object.keys(rest).length > 0 ? encodeValue(rest, "task options") : undefined;
}

/**
 * Rewrites the module paths of task values in wire data that start with `from` to start
 * with `to` (the scheduler's code root ↔ the unpacked code where the job runs).
 */
export function rewriteModulePaths(wire: Wire, from: string, to: string): Wire {
  if (from === to || wire === null || typeof wire !== "object") return wire;
  if (Array.isArray(wire)) return wire.map((w) => rewriteModulePaths(w, from, to));
  const out: { [key: string]: Wire } = {};
  for (const key of Object.keys(wire)) out[key] = rewriteModulePaths(wire[key]!, from, to);
  if (wire.$t === "task" && out.v && typeof out.v === "object" && !Array.isArray(out.v)) {
    const module = out.v.module;
    if (typeof module === "string" && (module === from || module.startsWith(from + path.sep))) {
      out.v = { ...out.v, module: to + module.slice(from.length) };
    }
  }
  return out;
}

/**
 * Prepares a job: builds and uploads the code package (once), clears stale results of the
 * same eval hash, writes the input, and returns the oneshot command line.
 *
 * @throws RemoteJobError when the task's module is unknown, outside the code root, or left
 *   out of the code package by `code_includes`/`code_excludes`.
 */
export async function prepareRemoteJob(
  job: JobSpec,
  settings: RemoteJobSettings,
): Promise<PreparedRemoteJob> {
  const { task } = job;
  const codeRoot = path.resolve(settings.codeRoot ?? process.cwd());
  const where = `task "${task.fullname}" cannot run on executor "${settings.executorName}"`;
  if (!task.modulePath) {
    throw new RemoteJobError(
      `${where}: the module that defines it is unknown; define tasks in a module file`,
    );
  }
  // The engine's own tasks (subrun's body) come with redun where the job runs.
  const engineModule = engineModuleName(task.modulePath);
  const rel = path.relative(codeRoot, task.modulePath);
  if (!engineModule && (rel.startsWith("..") || path.isAbsolute(rel))) {
    throw new RemoteJobError(
      `${where}: its module ${task.modulePath} is outside the code root ${codeRoot} ` +
        "(the directory redun runs in); run redun from the project's directory",
    );
  }
  const module = engineModule ?? rel.split(path.sep).join("/");
  let codeUri: string | undefined;
  if (settings.codePackage ?? true) {
    const { pkg, uri } = await ensureCodePackage({ ...settings, codeRoot });
    if (!engineModule && !pkg.files.includes(module)) {
      throw new RemoteJobError(
        `${where}: its module ${module} is not in the code package; ` +
          "check code_includes and code_excludes in the executor's configuration",
      );
    }
    codeUri = uri;
  }
  const args: Wire = job.args.map((arg, i) =>
    encodeValue(arg, `argument "${task.paramNames[i] ?? i}" of task "${task.fullname}"`),
  );
  const options = encodeOptions(job.options);
  const input: RemoteJobInput = {
    version: 1,
    task: task.fullname,
    module,
    args,
    ...(options !== undefined ? { options } : {}),
    codeRoot,
  };
  const paths = jobPaths(settings.scratch, job.evalHash);
  await clearJobResult(paths);
  await writeScratchJson(paths.input, input);
  const command = [
    ...(settings.redunCommand ?? ["redun"]),
    "oneshot",
    "--input",
    paths.input,
    ...(codeUri ? ["--code", codeUri] : []),
  ];
  return { evalHash: job.evalHash, paths, codeUri, command };
}

/** How the job ended, as far as the executor knows. */
export interface RemoteJobEnd {
  /** The task's fullname (for messages). */
  task: string;
  /** The executor's name (for messages). */
  executorName: string;
  /** The process's exit code, when known. */
  exitCode?: number;
  /** The job's log, when the executor captured it (else the scratch `log` is read). */
  log?: string;
  /** A hint for a job that ended without output or error (e.g. "image X has no redun"). */
  hint?: string;
  /** Lines of log attached to errors (default 20). */
  tailLines?: number;
}

/** The log tail as a block appended to an error message. */
function logBlock(log: string | undefined, lines: number): string {
  if (!log || !log.trim()) return "";
  return `\n--- last lines of the job's log ---\n${tailLines(log, lines)}`;
}

/**
 * Reads a finished job's result: resolves with its output, or throws its error (the task's
 * own error, decoded, with the log tail appended to its message). A job that left neither
 * throws an error naming the exit code, the hint and the log tail.
 */
export async function collectRemoteResult(paths: JobPaths, end: RemoteJobEnd): Promise<unknown> {
  const lines = end.tailLines ?? 20;
  const output = await readScratchJson(paths.output);
  const status = await readStatus(paths.status);
  if (output !== undefined && status === "DONE") {
    await importTaskModules(output);
    return decodeValue(output);
  }
  const log = end.log ?? (await readScratchText(paths.log));
  const errorWire = await readScratchJson(paths.error);
  if (errorWire !== undefined) {
    await importTaskModules(errorWire).catch(() => undefined);
    const error = decodeValue(errorWire);
    if (error instanceof Error) {
      error.message += logBlock(log, lines);
      throw error;
    }
    throw error;
  }
  const code = end.exitCode === undefined ? "" : ` (exit code ${end.exitCode})`;
  throw new RemoteJobError(
    `task "${end.task}" on executor "${end.executorName}" ended without output or error${code}` +
      (end.hint ? `: ${end.hint}` : "") +
      logBlock(log, lines),
  );
}
