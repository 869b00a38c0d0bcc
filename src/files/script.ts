/**
 * Script tasks: shell commands as cached, provenance-recorded tasks, with file staging.
 *
 * `script(command, { inputs, outputs })` calls the built-in task `redun.script`, which runs
 * wherever its executor runs it (inline, a thread, a process):
 *
 * 1. inputs are staged: each `file.stage(local)` (and each remote `File`/`Dir` given
 *    plainly, to its basename) is copied to its local path, and the parent directories
 *    of the outputs' local paths are created;
 * 2. the command runs in the working directory (the process's, or with `tempDir: true` a
 *    fresh temporary one, removed afterwards): a string with `bash -euo pipefail`, an argv
 *    array (`["sort", "-u", "in.txt"]`) with no shell;
 * 3. outputs are staged back: each `file.stage(local)` (and each remote `File`/`Dir` given
 *    plainly, from its basename) is copied from its local path to its remote location;
 * 4. the result is `outputs` with every staging pair replaced by its remote `File`/`Dir` and
 *    every `File("-")` by the command's standard output, a string (without `outputs`, the
 *    result is the standard output).
 *
 * Caching: the call is keyed by the command, the inputs' hashes (so it reruns when an input
 * changes) and where the outputs go (not what they hold, which is not known before the run);
 * the recorded result holds the outputs' hashes, so it is replayed only while every output
 * is unchanged: deleting or editing an output reruns the script.
 */
import path from "node:path";
import fs from "node:fs";
import os from "node:os";
import type { CallTaskOptions } from "../api/options.ts";
import { task, type TaskExpression } from "../api/task.ts";
import type { OPAQUE } from "../api/types.ts";
import { Expression } from "../expressions/expression.ts";
import { importModule } from "../api/workflow-module.ts";
import { hashParts } from "../values/hash.ts";
import { registerType } from "../values/registry.ts";
import { isOwnCode } from "../values/package-root.ts";
import { Dir, File, StagingDir, StagingFile } from "./file.ts";
import { fileSystemModules, isUri, type FileHashMode } from "./filesystem.ts";
import { localFileSystem, localPath } from "./local-fs.ts";
import { runScript } from "./shell.ts";

export { ScriptError, runScript, type RunScriptOptions } from "./shell.ts";

/** Options of {@link script}: staging, and any task option for the script's call. */
export interface ScriptOptions<O = undefined> extends CallTaskOptions {
  /**
   * Files and directories the command reads, at any depth in arrays and objects:
   * `file.stage("local/path")` copies a remote file to that local path first; a remote
   * `File`/`Dir` given plainly is copied to its basename; local ones are used in place.
   * Their hashes are part of the cache key.
   */
  inputs?: unknown;
  /**
   * Files and directories the command writes, at any depth in arrays and objects:
   * `file.stage("local/path")` copies the local file there afterwards; a remote `File`/`Dir`
   * given plainly is copied from its basename; a local one is returned as it is;
   * `File("-")` (or {@link STDOUT}, typed as a string) is replaced by the command's standard
   * output, as a string. Other values are returned unchanged. Without `outputs`, the result
   * is standard output.
   */
  outputs?: O;
  /**
   * Run in a fresh temporary directory (removed afterwards) instead of the process's working
   * directory. Relative local paths of staging pairs are then inside it; plain local
   * outputs must be absolute paths.
   */
  tempDir?: boolean;
}

declare const STDOUT_BRAND: unique symbol;

/** `File("-")` with a type that says it stands for standard output. */
export type StdoutFile = File & { readonly [STDOUT_BRAND]: true };

/**
 * `File("-")`: in a script's `outputs`, the command's standard output (a string in the
 * result). The same as `new File("-")`, but typed, so the result's type says `string`.
 *
 * @example
 * const [count, sorted] = script(["sh", "-c", "wc -l < in.txt; sort in.txt > sorted.txt"], {
 *   outputs: [STDOUT, new File("sorted.txt")],
 * }); // an expression of [string, File]
 */
export const STDOUT = new File("-") as StdoutFile;

/**
 * What a script returns for its `outputs`: staging pairs become their remote File/Dir,
 * {@link STDOUT} the standard output.
 */
export type ScriptOutputs<T> = T extends StdoutFile
  ? string
  : T extends StagingFile
    ? File
    : T extends StagingDir
      ? Dir
      : T extends File | Dir
        ? T
        : T extends readonly unknown[]
          ? { -readonly [K in keyof T]: ScriptOutputs<T[K]> }
          : T extends { readonly [OPAQUE]: true }
            ? T
            : T extends Record<string, unknown>
              ? { [K in keyof T]: ScriptOutputs<T[K]> }
              : T;

/** The result type of `script()`: standard output, or the outputs. */
export type ScriptResult<O> = [O] extends [undefined] ? string : ScriptOutputs<O>;

/**
 * Where one output goes, hashed by location only: an output's content is not known before
 * the script runs, so it must not be part of the cache key. Kind `stdout` is `File("-")`.
 */
class ScriptOutput {
  constructor(
    readonly kind: "file" | "dir" | "stdout",
    /** Path the command writes (relative to the working directory, or absolute). */
    readonly local: string,
    /** Where it is copied afterwards, if anywhere. */
    readonly remote: string | null,
    readonly hashMode: FileHashMode,
  ) {}
}

registerType(ScriptOutput, {
  name: "redun.ScriptOutput",
  serialize: (o) => ({ kind: o.kind, local: o.local, remote: o.remote, mode: o.hashMode }),
  deserialize: (d: {
    kind: "file" | "dir" | "stdout";
    local: string;
    remote: string | null;
    mode: FileHashMode;
  }) => new ScriptOutput(d.kind, d.local, d.remote, d.mode),
  hash: (o) => hashParts(["ScriptOutput", o.kind, o.local, o.remote ?? "", o.hashMode]),
});

function isLocal(p: string): boolean {
  return !isUri(p) || p.startsWith("file://");
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Maps `fn` over the leaves of arrays and plain objects. */
async function mapLeaves(
  value: unknown,
  fn: (leaf: unknown) => Promise<unknown>,
): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((v) => mapLeaves(v, fn)));
  if (value && typeof value === "object" && isPlainObject(value)) {
    const keys = Object.keys(value);
    const values = await Promise.all(
      keys.map((k) => mapLeaves((value as Record<string, unknown>)[k], fn)),
    );
    return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
  }
  return fn(value);
}

/** The outputs with every File, Dir and staging pair replaced by where it goes. */
function outputSpec(outputs: unknown, tempDir: boolean, where = "outputs"): unknown {
  if (outputs instanceof Expression) {
    throw new TypeError(
      `script(): ${where} must be concrete Files, Dirs or staging pairs, not an expression (${outputs.describe()})`,
    );
  }
  if (Array.isArray(outputs))
    return outputs.map((o, i) => outputSpec(o, tempDir, `${where}[${i}]`));
  if (outputs instanceof StagingFile || outputs instanceof StagingDir) {
    const kind = outputs instanceof StagingFile ? "file" : "dir";
    if (!isLocal(outputs.local.path)) {
      throw new TypeError(`script(): the local side of ${where} must be a local path (${outputs})`);
    }
    return new ScriptOutput(kind, outputs.local.path, outputs.remote.path, outputs.remote.hashMode);
  }
  if (outputs instanceof File && outputs.path === "-") {
    return new ScriptOutput("stdout", "-", null, outputs.hashMode);
  }
  if (outputs instanceof File || outputs instanceof Dir) {
    const kind = outputs instanceof File ? "file" : "dir";
    if (!isLocal(outputs.path)) {
      return new ScriptOutput(kind, outputs.basename(), outputs.path, outputs.hashMode);
    }
    if (tempDir && !path.isAbsolute(outputs.path) && !outputs.path.startsWith("file://")) {
      throw new TypeError(
        `script(): with tempDir, the local output ${outputs} would be removed with the temporary ` +
          "directory: give an absolute path, or stage it to where it should stay",
      );
    }
    return new ScriptOutput(kind, outputs.path, null, outputs.hashMode);
  }
  if (outputs && typeof outputs === "object" && isPlainObject(outputs)) {
    return Object.fromEntries(
      Object.entries(outputs).map(([k, v]) => [k, outputSpec(v, tempDir, `${where}.${k}`)]),
    );
  }
  return outputs;
}

/** A path the command sees, as a path this process can use. */
function inWorkDir(p: string, workDir: string): string {
  return p.startsWith("file://") || path.isAbsolute(p) ? p : path.resolve(workDir, p);
}

/** Copies remote inputs to their local paths. */
async function stageInputs(inputs: unknown, workDir: string): Promise<void> {
  const copies: Promise<unknown>[] = [];
  await mapLeaves(inputs, async (leaf) => {
    if (leaf instanceof StagingFile || leaf instanceof StagingDir) {
      copies.push(leaf.remote.copyTo(inWorkDir(leaf.local.path, workDir)));
    } else if ((leaf instanceof File || leaf instanceof Dir) && !isLocal(leaf.path)) {
      copies.push(leaf.copyTo(path.resolve(workDir, leaf.basename())));
    }
    return leaf;
  });
  await Promise.all(copies);
}

/** Whether the outputs ask for standard output (`File("-")`). */
async function wantsStdout(spec: unknown): Promise<boolean> {
  let found = false;
  await mapLeaves(spec, async (leaf) => {
    if (leaf instanceof ScriptOutput && leaf.kind === "stdout") found = true;
    return leaf;
  });
  return found;
}

/** Creates the parent directories of local output paths, so the command can just write them. */
async function makeOutputParents(spec: unknown, workDir: string): Promise<void> {
  const parents = new Set<string>();
  await mapLeaves(spec, async (leaf) => {
    if (leaf instanceof ScriptOutput && leaf.kind !== "stdout") {
      parents.add(path.dirname(localPath(inWorkDir(leaf.local, workDir))));
    }
    return leaf;
  });
  await Promise.all([...parents].map((p) => fs.promises.mkdir(p, { recursive: true })));
}

/**
 * Copies outputs to their remote locations; returns the outputs as Files and Dirs (and
 * standard output where `File("-")` was).
 */
async function collectOutputs(spec: unknown, workDir: string, stdout: string): Promise<unknown> {
  return mapLeaves(spec, async (leaf) => {
    if (!(leaf instanceof ScriptOutput)) return leaf;
    if (leaf.kind === "stdout") return stdout;
    const localPath = inWorkDir(leaf.local, workDir);
    const stat = await localFileSystem.stat(localPath);
    const isDir = leaf.kind === "dir";
    if (!stat || Boolean(stat.isDirectory) !== isDir) {
      throw new Error(
        `the script did not write its output ${isDir ? "directory" : "file"} ${leaf.local}` +
          (workDir === process.cwd() ? "" : ` (in ${workDir})`),
      );
    }
    if (isDir) {
      const local = new Dir(localPath, { hashMode: leaf.hashMode });
      if (leaf.remote === null) return new Dir(leaf.local, { hashMode: leaf.hashMode });
      return (await local.copyTo(new Dir(leaf.remote, { hashMode: leaf.hashMode }))).prepare();
    }
    if (leaf.remote === null) return new File(leaf.local, { hashMode: leaf.hashMode });
    const remote = new File(leaf.remote, { hashMode: leaf.hashMode });
    await new File(localPath).copyTo(remote);
    return remote.prepare();
  });
}

/**
 * The built-in task behind {@link script}: stages inputs, runs the command, stages outputs.
 * `modules` (left out of the cache key) are modules that registered filesystems, imported
 * first so that a worker knows their schemes too.
 */
export const scriptTask = task(
  { name: "script", namespace: "redun", version: "1", configArgs: ["modules"] },
  async function script(
    command: string | string[],
    inputs: unknown,
    outputs: unknown,
    tempDir: boolean,
    modules: string[] = [],
  ): Promise<unknown> {
    for (const module of modules) await importModule(module).catch(() => undefined);
    const workDir = tempDir
      ? await fs.promises.mkdtemp(path.join(os.tmpdir(), "redun-script-"))
      : process.cwd();
    try {
      await Promise.all([stageInputs(inputs, workDir), makeOutputParents(outputs, workDir)]);
      const { stdout } = await runScript(command, {
        cwd: workDir,
        captureStdout: outputs === null || (await wantsStdout(outputs)),
      });
      return outputs === null ? stdout : await collectOutputs(outputs, workDir, stdout);
    } finally {
      if (tempDir) await fs.promises.rm(workDir, { recursive: true, force: true });
    }
  },
);

/**
 * The modules a worker must import to know the filesystems registered here: the user's
 * modules that registered one, never redun's own files (its loader, when the package is
 * linked rather than installed under `node_modules`) nor anything that is not a file.
 */
function userFileSystemModules(): string[] {
  return fileSystemModules().filter((file) => {
    let user = userModules.get(file);
    if (user === undefined) {
      user = path.isAbsolute(file) && !isOwnCode(file) && fs.existsSync(file);
      userModules.set(file, user);
    }
    return user;
  });
}
const userModules = new Map<string, boolean>();

/**
 * Runs a command as a task, with file staging (see the module documentation).
 *
 * @example
 * const counts = script(
 *   `sort -u input.txt | wc -l > count.txt`,
 *   {
 *     inputs: [new File("s3://bucket/in.txt").stage("input.txt")],
 *     outputs: new File("s3://bucket/count.txt").stage("count.txt"),
 *     executor: "batch",
 *   },
 * ); // an expression of File("s3://bucket/count.txt")
 *
 * // No shell: an argv array, and standard output as a result.
 * const lines = script(["wc", "-l", "notes.txt"], { outputs: STDOUT }); // a string
 *
 * @param command - a shell script (dedented; `bash -euo pipefail` unless it starts with
 *   `#!`), or an argv array (`[program, ...args]`, run with no shell, so nothing needs
 *   quoting; each element a string or an expression of one).
 * @param options - `inputs`, `outputs`, `tempDir`, and task options for this call
 *   (`executor`, `memory`, `limits`, …).
 * @throws ScriptError (when evaluated) if the command exits with a non-zero code (or an
 *   argv program cannot start).
 */
export function script<O = undefined>(
  command: string | Expression<string> | readonly (string | Expression<string>)[],
  options: ScriptOptions<O> = {},
): TaskExpression<ScriptResult<O>> {
  const { inputs = [], outputs, tempDir = false, ...taskOptions } = options;
  if (Array.isArray(command)) {
    if (command.length === 0)
      throw new TypeError("script(): an argv array needs at least a program");
    command.forEach((word, i) => {
      if (typeof word !== "string" && !(word instanceof Expression)) {
        throw new TypeError(
          `script(): argv[${i}] must be a string (got ${word === null ? "null" : typeof word})`,
        );
      }
    });
  } else if (typeof command !== "string" && !(command instanceof Expression)) {
    throw new TypeError(
      `script(): the command must be a string or an argv array (got ${typeof command})`,
    );
  }
  const spec = outputs === undefined ? null : outputSpec(outputs, tempDir);
  const t = Object.keys(taskOptions).length > 0 ? scriptTask.options(taskOptions) : scriptTask;
  return t(command, inputs, spec, tempDir, userFileSystemModules()) as TaskExpression<
    ScriptResult<O>
  >;
}
