/**
 * The filesystem registry: `File` and `Dir` find the filesystem that serves a path by its
 * URI scheme (`s3://…`, `https://…`; plain paths and `file://` are local). Register your
 * own with {@link registerFileSystem}.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { stackFrames } from "../api/source.ts";
import { hashParts } from "../values/hash.ts";
import { RedunError } from "../values/errors.ts";
import { registerErrorClass } from "../values/serialize.ts";
import { CODE_DIR, COMPILED } from "../values/package-root.ts";

/** How a file's hash is computed: from its metadata (fast, the default) or from its bytes. */
export type FileHashMode = "stat" | "content";

/** What a filesystem knows about a file (or, in listings, a directory). */
export interface FileStat {
  /** The full path or URI. */
  path: string;
  /** Size in bytes; -1 when the filesystem does not say (an HTTP server without Content-Length). */
  size: number;
  /** Last modification, in milliseconds since the epoch, when known. */
  mtimeMs?: number;
  /** The server's identity for the content (S3 ETag, HTTP ETag), when there is one. */
  etag?: string;
  /** In non-recursive listings: a directory (an S3 common prefix). */
  isDirectory?: boolean;
}

/** Options of {@link FileSystem.list}. */
export interface ListOptions {
  /** Every file beneath (default), or only the entries directly inside (files and directories). */
  recursive?: boolean;
}

/**
 * A filesystem serves paths with some URI schemes. Only `stat` and `readStream` are
 * required; a filesystem without `writeStream` is read-only.
 *
 * Methods take the full path or URI as given to `File` (`s3://bucket/key`).
 */
export interface FileSystem {
  /** A short name for messages: `local`, `s3`, `http`. */
  readonly name: string;
  /** URI schemes it serves (lower case, without `://`); `""` means plain paths. */
  readonly schemes: readonly string[];
  /** The file's metadata, or `undefined` when there is no such file. */
  stat(path: string): Promise<FileStat | undefined>;
  /** A stream of the file's bytes (errors, including a missing file, arrive as stream errors). */
  readStream(path: string): Readable;
  /**
   * A stream that writes the file (creating parent directories where that means
   * something). The write is complete once the stream has emitted `finish`.
   */
  writeStream?(path: string): Writable;
  /** Writes a whole file at once (faster than a stream for small data). */
  write?(path: string, data: Uint8Array): Promise<void>;
  /** Removes a file; no error when it does not exist. */
  remove?(path: string): Promise<void>;
  /** Copies a file within this filesystem without moving the bytes through this process. */
  copy?(src: string, dest: string): Promise<void>;
  /** Creates an empty file, or updates the modification time of an existing one. */
  touch?(path: string): Promise<void>;
  /** Files (and with `recursive: false`, directories) beneath a directory, sorted by path. */
  list?(dir: string, options?: ListOptions): Promise<FileStat[]>;
  /**
   * The hash of a file when its `FileStat` is not enough (the default uses `stat`: the ETag
   * when there is one, else size and modification time, else the content).
   */
  hash?(path: string, mode: FileHashMode): Promise<string>;
  /** A synchronous `hash`, for filesystems on this machine (lets `File.hash` compute lazily). */
  hashSync?(path: string, mode: FileHashMode): string;
  /** Joins a relative path to a directory path. Default: `/`-joined. */
  join?(dir: string, rel: string): string;
}

/** A missing file, where one was needed. */
export class FileNotFoundError extends RedunError {
  override name = "FileNotFoundError";
  /** Node's code for a missing file, so that code written for `fs` errors handles it too. */
  override get code() {
    return "ENOENT" as const;
  }
  constructor(readonly path: string) {
    super(`no such file: ${path}`);
  }
}
registerErrorClass(FileNotFoundError);

/** Writing to a filesystem that only reads (HTTP). */
export class ReadOnlyFileSystemError extends RedunError {
  override name = "ReadOnlyFileSystemError";
  override get code() {
    return "REDUN_READ_ONLY_FILE_SYSTEM" as const;
  }
  constructor(
    readonly path: string,
    operation: string,
    fsName: string,
  ) {
    super(`cannot ${operation} ${path}: the ${fsName} filesystem is read-only`);
  }
}
registerErrorClass(ReadOnlyFileSystemError);

const bySchemes = new Map<string, FileSystem>();
/** Modules outside the engine that registered filesystems (script workers import them). */
const registeringModules = new Set<string>();
/** This folder (src/files); compiled, redun's modules share bundled files, so all of dist/. */
const FILES_DIR = COMPILED ? CODE_DIR : path.join(CODE_DIR, "files");

/** The first module on the call stack outside this folder and packages, if any. */
function callerModule(): string | undefined {
  return stackFrames().find(
    ({ file }) =>
      !file.startsWith(FILES_DIR + path.sep) &&
      !file.includes(`${path.sep}node_modules${path.sep}`),
  )?.file;
}

/**
 * Registers a filesystem for its schemes (replacing any earlier one for the same scheme).
 * Workers find it too as long as it is registered by a module they import: the module
 * that defines your tasks.
 *
 * @example
 * registerFileSystem({
 *   name: "mem", schemes: ["mem"],
 *   stat: async (p) => ..., readStream: (p) => ..., writeStream: (p) => ...,
 * });
 */
export function registerFileSystem(fs: FileSystem): void {
  for (const scheme of fs.schemes) bySchemes.set(scheme.toLowerCase(), fs);
  const module = callerModule();
  if (module) registeringModules.add(module);
}

/** Modules (outside redun) that registered filesystems in this process. */
export function fileSystemModules(): string[] {
  return [...registeringModules];
}

/** The URI scheme of a path (`"s3"`), or `""` for a plain path. */
export function schemeOf(path: string): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(path);
  return match ? match[1]!.toLowerCase() : "";
}

/** Whether a path is a URI with a scheme (`s3://…`), rather than a plain local path. */
export function isUri(path: string): boolean {
  return schemeOf(path) !== "";
}

/**
 * The filesystem that serves a path.
 * @throws Error naming the scheme and the registered ones when none serves it.
 */
export function getFileSystem(path: string): FileSystem {
  const scheme = schemeOf(path);
  const fs = bySchemes.get(scheme);
  if (!fs) {
    const known = [...bySchemes.keys()].filter(Boolean).sort().join(", ");
    throw new Error(
      `no filesystem is registered for "${scheme}://" (in "${path}"); known schemes: ${known}. ` +
        "Register one with registerFileSystem()",
    );
  }
  return fs;
}

/** Joins a path inside a directory, with the filesystem's rules. */
export function joinPath(fs: FileSystem, dir: string, rel: string): string {
  if (fs.join) return fs.join(dir, rel);
  return `${dir.replace(/\/+$/, "")}/${rel.replace(/^\/+/, "")}`;
}

/** The hash of a file that is not there. */
export function missingHash(path: string): string {
  return hashParts(["File", path, "missing"]);
}

/**
 * The hash of a file from its metadata: the ETag when the filesystem gives one, else size and
 * modification time; `undefined` when neither is known (the content must be hashed).
 */
export function hashFromStat(path: string, stat: FileStat | undefined): string | undefined {
  if (!stat) return missingHash(path);
  if (stat.etag !== undefined) return hashParts(["File", path, "etag", stat.etag]);
  if (stat.mtimeMs !== undefined) {
    return hashParts(["File", path, String(stat.size), String(stat.mtimeMs)]);
  }
  return undefined;
}

/** The hash of a file from a digest of its bytes. */
export function contentHash(path: string, digest: string): string {
  return hashParts([hashParts(["File", path, "content"]), digest]);
}

/** SHA-1 of a stream's bytes, read chunk by chunk. */
export async function digestStream(stream: Readable): Promise<string> {
  const hash = createHash("sha1");
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** A file's current hash on its filesystem (a request for remote ones). */
export async function computeFileHash(
  fs: FileSystem,
  path: string,
  mode: FileHashMode,
): Promise<string> {
  if (fs.hash) return fs.hash(path, mode);
  const stat = await fs.stat(path);
  if (!stat) return missingHash(path);
  if (mode === "stat") {
    const fromStat = hashFromStat(path, stat);
    if (fromStat !== undefined) return fromStat;
  }
  return contentHash(path, await digestStream(fs.readStream(path)));
}
