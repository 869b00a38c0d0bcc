/**
 * The scratch space of remote jobs: where the scheduler and `redun oneshot` exchange a job's
 * input, output, error, status and log. It is a local directory or a URI prefix
 * (`s3://bucket/prefix`); every read and write goes through the filesystem registry, so
 * both work alike.
 *
 * ```
 * SCRATCH/code/CODE_HASH.tar.gz   one per distinct code package
 * SCRATCH/jobs/EVAL_HASH/input    JSON: RemoteJobInput
 * SCRATCH/jobs/EVAL_HASH/output   the result (wire format, JSON)
 * SCRATCH/jobs/EVAL_HASH/error    the error (wire format: message, remote stack, classes)
 * SCRATCH/jobs/EVAL_HASH/status   RUNNING | DONE | FAILED
 * SCRATCH/jobs/EVAL_HASH/log      stdout+stderr of the job, when the executor captures it
 * SCRATCH/array/ARRAY_ID/jobs     JSON: the EVAL_HASHes of an array job, by index
 * ```
 */
import path from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import "../../files/file.ts"; // registers the local, s3 and http filesystems
import { getFileSystem, isUri, joinPath } from "../../files/filesystem.ts";
import type { Wire } from "../../values/serialize.ts";

/** The files of one job in the scratch space. */
export type JobFileName = "input" | "output" | "error" | "status" | "log";

/** What `status` holds. */
export type RemoteJobStatus = "RUNNING" | "DONE" | "FAILED";

/** The serialized call, as the scheduler writes it to `jobs/EVAL_HASH/input`. */
export interface RemoteJobInput {
  version: 1;
  /** Task fullname. */
  task: string;
  /** The task's module, relative to the code root (`/`-separated). */
  module: string;
  /** Arguments, wire format. Task module paths in it start with `codeRoot`. */
  args: Wire;
  /** The call's effective task options, wire format (absent when there are none). */
  options?: Wire;
  /** The scheduler's code root (absolute); oneshot maps it to the unpacked code. */
  codeRoot: string;
}

/** The paths of one job's files. */
export interface JobPaths {
  dir: string;
  input: string;
  output: string;
  error: string;
  status: string;
  log: string;
}

/** Joins path segments under a scratch root (a local path or a URI). */
export function scratchJoin(root: string, ...parts: string[]): string {
  if (!isUri(root)) return path.join(root, ...parts);
  const fs = getFileSystem(root);
  return parts.reduce((dir, part) => joinPath(fs, dir, part), root);
}

/** The parent of a scratch path (a local path or a URI). */
export function scratchDirname(p: string): string {
  if (!isUri(p)) return path.dirname(p);
  return p.replace(/\/+$/, "").replace(/\/[^/]*$/, "");
}

/** The directory of a job: `SCRATCH/jobs/EVAL_HASH`. */
export function jobDir(scratch: string, evalHash: string): string {
  return scratchJoin(scratch, "jobs", evalHash);
}

/** Every file path of a job. */
export function jobPaths(scratch: string, evalHash: string): JobPaths {
  return siblingPaths(scratchJoin(jobDir(scratch, evalHash), "input"));
}

/** The paths beside a job's `input` file (what oneshot uses when given only `--input`). */
export function siblingPaths(inputPath: string): JobPaths {
  const dir = scratchDirname(inputPath);
  return {
    dir,
    input: inputPath,
    output: scratchJoin(dir, "output"),
    error: scratchJoin(dir, "error"),
    status: scratchJoin(dir, "status"),
    log: scratchJoin(dir, "log"),
  };
}

/** Where a code package lives: `SCRATCH/code/HASH.tar.gz`. */
export function codePackagePath(scratch: string, hash: string): string {
  return scratchJoin(scratch, "code", `${hash}.tar.gz`);
}

/** The list of eval hashes of an array job: `SCRATCH/array/ARRAY_ID/jobs`. */
export function arrayJobsPath(scratch: string, arrayId: string): string {
  return scratchJoin(scratch, "array", arrayId, "jobs");
}

/** The scratch root of an array job's list (`SCRATCH/array/ID/jobs` → `SCRATCH`). */
export function scratchOfArrayJobs(arrayJobs: string): string {
  return scratchDirname(scratchDirname(scratchDirname(arrayJobs)));
}

/** Reads a scratch file; `undefined` when it does not exist. */
export async function readScratchFile(p: string): Promise<Buffer | undefined> {
  const fs = getFileSystem(p);
  if (!isUri(p)) {
    // One system call instead of stat + read: scratch files are small.
    try {
      return await (await import("node:fs/promises")).readFile(p);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }
  if (!(await fs.stat(p))) return undefined;
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of fs.readStream(p)) chunks.push(Buffer.from(chunk as Buffer));
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
  return Buffer.concat(chunks);
}

/** Reads a scratch file as UTF-8 text; `undefined` when it does not exist. */
export async function readScratchText(p: string): Promise<string | undefined> {
  return (await readScratchFile(p))?.toString("utf8");
}

/** Reads a JSON scratch file; `undefined` when it does not exist. */
export async function readScratchJson<T = Wire>(p: string): Promise<T | undefined> {
  const text = await readScratchText(p);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new Error(`scratch file ${p} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Writes a whole scratch file (creating parent directories where that means something). */
export async function writeScratchFile(p: string, data: string | Uint8Array): Promise<void> {
  const fs = getFileSystem(p);
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  if (fs.write) return fs.write(p, bytes);
  if (!fs.writeStream) throw new Error(`cannot write ${p}: the ${fs.name} filesystem is read-only`);
  await pipeline(Readable.from([bytes]), fs.writeStream(p) as Writable);
}

/** Writes a JSON scratch file. */
export async function writeScratchJson(p: string, value: unknown): Promise<void> {
  await writeScratchFile(p, JSON.stringify(value));
}

/** Removes a scratch file; no error when it does not exist. */
export async function removeScratchFile(p: string): Promise<void> {
  const fs = getFileSystem(p);
  if (fs.remove) await fs.remove(p);
}

/** Whether a scratch file exists. */
export async function scratchFileExists(p: string): Promise<boolean> {
  return (await getFileSystem(p).stat(p)) !== undefined;
}

/** Writes a job's status word. */
export function writeStatus(p: string, status: RemoteJobStatus): Promise<void> {
  return writeScratchFile(p, status);
}

/** A job's status word, or `undefined` when none was written. */
export async function readStatus(p: string): Promise<RemoteJobStatus | undefined> {
  const text = (await readScratchText(p))?.trim();
  return text === "RUNNING" || text === "DONE" || text === "FAILED" ? text : undefined;
}

/**
 * Removes a job's `output`, `error`, `status` and `log`, so that a result of an earlier
 * run is never read as the result of the next one.
 */
export async function clearJobResult(paths: JobPaths): Promise<void> {
  await Promise.all([paths.output, paths.error, paths.status, paths.log].map(removeScratchFile));
}

/** The last `lines` lines of a text (a log tail for error messages). */
export function tailLines(text: string, lines = 20): string {
  const all = text.replace(/\s+$/, "").split("\n");
  return all.slice(-lines).join("\n");
}
