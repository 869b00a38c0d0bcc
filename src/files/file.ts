/**
 * File and Dir values: their hash follows their contents, so a cached result that holds a
 * File is replayed only while the file is unchanged, and a task that takes a File reruns
 * when the file changes.
 *
 * | where | hash from |
 * | --- | --- |
 * | local paths, `file://` | path, size and modification time (`hashMode: "content"`: the bytes) |
 * | `s3://bucket/key` | the object's ETag |
 * | `http(s)://` | the ETag, else Last-Modified and Content-Length, else the bytes |
 *
 * **Async I/O.** Every method that reads or writes goes through the file's filesystem and
 * returns a promise (`await file.read()`), whatever the filesystem: one API for local and
 * remote files, and no blocking of the event loop. There are no synchronous variants; use
 * `node:fs` directly on `file.path` if you must block. `readStream()` / `writeStream()` return
 * Node streams at once (errors arrive on the stream). `basename()` / `dirname()` are
 * plain string operations.
 *
 * **Hashes.** `file.hash` is synchronous. Local files compute it when first asked; remote
 * files need one request, made by `await file.prepare()`. The scheduler prepares every
 * task argument and result (and the values inside expressions a task returns), so inside
 * workflows this is automatic; reading `hash` of an unprepared remote file is an error, never
 * a silent hash of its path. Methods that change a file (`write`, `touch`, `copyTo`'s
 * destination, `remove`, a finished `writeStream`) forget its hash, so the next use sees the
 * new content.
 */
import path from "node:path";
import { Readable, type Writable } from "node:stream";
import { streamPromises } from "../values/lazy-builtins.ts";
import type { OPAQUE } from "../api/types.ts";
import { hashParts } from "../values/hash.ts";
import { registerType } from "../values/registry.ts";
import {
  FileNotFoundError,
  ReadOnlyFileSystemError,
  computeFileHash,
  getFileSystem,
  hashFromStat,
  isUri,
  joinPath,
  registerFileSystem,
  type FileHashMode,
  type FileStat,
  type FileSystem,
} from "./filesystem.ts";
import { globBase, globToRegExp, hasMagic } from "./glob.ts";
import { httpFileSystem } from "./http.ts";
import { localFileSystem } from "./local-fs.ts";
import { s3FileSystem } from "./s3.ts";

export type { FileHashMode } from "./filesystem.ts";

registerFileSystem(localFileSystem);
registerFileSystem(s3FileSystem);
registerFileSystem(httpFileSystem);

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** Options of `new File()` / `new Dir()`. */
export interface FileOptions {
  /** `"stat"` (default): metadata; `"content"`: a digest of the bytes. */
  hashMode?: FileHashMode;
  /** A hash recorded earlier (when a value is read back); normally left out. */
  hash?: string;
}

/** `basename` of a path or URI. */
function baseName(p: string): string {
  if (!isUri(p)) return path.basename(p);
  const rest = p.replace(/^[^:]+:\/\/[^/]*/, "").replace(/[?#].*$/, "");
  return path.posix.basename(rest);
}

/** `dirname` of a path or URI (`s3://b/k/x` → `s3://b/k`; `s3://b/x` → `s3://b`). */
function dirName(p: string): string {
  if (!isUri(p)) return path.dirname(p);
  const authority = /^[^:]+:\/\/[^/]*/.exec(p)![0];
  const rest = p.slice(authority.length).replace(/\/+$/, "");
  const dir = path.posix.dirname(rest || "/");
  return dir === "/" || dir === "." ? authority : authority + dir;
}

function unprepared(kind: string, p: string, fs: FileSystem): Error {
  return new Error(
    `${kind}("${p}") has no hash yet: the ${fs.name} filesystem computes it with a request. ` +
      `Call "await ${kind.toLowerCase()}.prepare()" first (the scheduler does this for task arguments and results)`,
  );
}

function writableOf(fs: FileSystem, p: string): Writable {
  if (!fs.writeStream) throw new ReadOnlyFileSystemError(p, "write", fs.name);
  return fs.writeStream(p);
}

function isMissingError(error: unknown): boolean {
  return error instanceof FileNotFoundError || (error as NodeJS.ErrnoException)?.code === "ENOENT";
}

/** Runs `fn` on every item, at most `limit` at a time. */
async function eachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * A file: a local path (`data/a.txt`, `file:///…`) or a URI (`s3://bucket/key`,
 * `https://host/x`). A task argument or result; its hash follows its content.
 */
export class File {
  declare readonly [OPAQUE]: true;
  /** The path or URI, as given. */
  readonly path: string;
  /** How the hash is computed. */
  readonly hashMode: FileHashMode;
  #hash: string | undefined;

  constructor(filePath: string, options: FileOptions = {}) {
    if (typeof filePath !== "string" || filePath === "") {
      throw new TypeError("File(): expected a path or URI");
    }
    this.path = filePath;
    this.hashMode = options.hashMode ?? "stat";
    this.#hash = options.hash;
  }

  /** The filesystem that serves this file. */
  get filesystem(): FileSystem {
    return getFileSystem(this.path);
  }

  /**
   * The file's hash, as recorded (or, for a local file never hashed, computed now).
   * @throws Error for a remote file that was not prepared (see {@link File.prepare}).
   */
  get hash(): string {
    if (this.#hash !== undefined) return this.#hash;
    const fs = this.filesystem;
    if (!fs.hashSync) throw unprepared("File", this.path, fs);
    return (this.#hash = fs.hashSync(this.path, this.hashMode));
  }

  /** Whether the hash is known without I/O. */
  get prepared(): boolean {
    return this.#hash !== undefined;
  }

  /** Computes the hash if it is not known yet (one request for a remote file). */
  async prepare(): Promise<this> {
    this.#hash ??= await computeFileHash(this.filesystem, this.path, this.hashMode);
    return this;
  }

  /** The hash the file has now (not the recorded one). */
  async currentHash(): Promise<string> {
    return computeFileHash(this.filesystem, this.path, this.hashMode);
  }

  /** Whether the file still has the recorded hash (it did not change or vanish). */
  async isValid(): Promise<boolean> {
    if (this.#hash === undefined) return true;
    return (await this.currentHash()) === this.#hash;
  }

  /** Forgets the recorded hash: it is computed again when next needed. */
  invalidate(): this {
    this.#hash = undefined;
    return this;
  }

  /** The same file with its hash taken again now (local files; remote ones keep a known hash). */
  refreshed(): File {
    const fs = this.filesystem;
    if (fs.hashSync) {
      return new File(this.path, {
        hashMode: this.hashMode,
        hash: fs.hashSync(this.path, this.hashMode),
      });
    }
    return this;
  }

  /** Whether the file exists. */
  async exists(): Promise<boolean> {
    const stat = await this.filesystem.stat(this.path);
    return stat !== undefined && !stat.isDirectory;
  }

  /**
   * Size, modification time and (remote files) ETag.
   * @throws FileNotFoundError when there is no such file.
   */
  async stat(): Promise<FileStat> {
    const stat = await this.filesystem.stat(this.path);
    if (!stat || stat.isDirectory) throw new FileNotFoundError(this.path);
    return stat;
  }

  /** Size in bytes (-1 when an HTTP server does not say). */
  async size(): Promise<number> {
    return (await this.stat()).size;
  }

  /** The whole file as text (UTF-8 unless told otherwise). */
  async read(encoding: BufferEncoding = "utf8"): Promise<string> {
    return (await this.readBytes()).toString(encoding);
  }

  /** The whole file as bytes. For large files prefer {@link File.readStream}. */
  async readBytes(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of this.readStream()) chunks.push(chunk as Buffer);
    } catch (error) {
      throw isMissingError(error) ? new FileNotFoundError(this.path) : error;
    }
    return Buffer.concat(chunks);
  }

  /** A stream of the file's bytes (a missing file is an error on the stream). */
  readStream(): Readable {
    return this.filesystem.readStream(this.path);
  }

  /**
   * A stream that writes the file; the write is complete when the stream emits `finish`
   * (`await pipeline(source, file.writeStream())`).
   */
  writeStream(): Writable {
    const stream = writableOf(this.filesystem, this.path);
    this.#hash = undefined;
    stream.once("finish", () => (this.#hash = undefined));
    return stream;
  }

  /** Writes the whole file (text as UTF-8) and returns this file, with its hash forgotten. */
  async write(data: string | Uint8Array): Promise<this> {
    const fs = this.filesystem;
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    if (fs.write) await fs.write(this.path, bytes);
    else
      await streamPromises().pipeline(
        Readable.from([Buffer.from(bytes)]),
        writableOf(fs, this.path),
      );
    this.#hash = undefined;
    return this;
  }

  /**
   * Copies the file to another path or URI, on any filesystem (streamed, or server-side
   * within S3). Returns the destination.
   */
  async copyTo(dest: File | string): Promise<File> {
    const target = typeof dest === "string" ? new File(dest, { hashMode: this.hashMode }) : dest;
    if (target.path === this.path) return target;
    const from = this.filesystem;
    const to = target.filesystem;
    try {
      if (from === to && from.copy) await from.copy(this.path, target.path);
      else await streamPromises().pipeline(this.readStream(), writableOf(to, target.path));
    } catch (error) {
      if (isMissingError(error) && !(await this.exists())) throw new FileNotFoundError(this.path);
      throw error;
    }
    target.invalidate();
    return target;
  }

  /** Removes the file (no error if it does not exist). */
  async remove(): Promise<void> {
    const fs = this.filesystem;
    if (!fs.remove) throw new ReadOnlyFileSystemError(this.path, "remove", fs.name);
    await fs.remove(this.path);
    this.#hash = undefined;
  }

  /** Creates the file empty, or updates its modification time. */
  async touch(): Promise<this> {
    const fs = this.filesystem;
    if (fs.touch) await fs.touch(this.path);
    else if (!(await this.exists())) await this.write("");
    else throw new ReadOnlyFileSystemError(this.path, "touch", fs.name);
    this.#hash = undefined;
    return this;
  }

  /** The last component of the path (`a.txt`). */
  basename(): string {
    return baseName(this.path);
  }

  /** The directory part of the path (`s3://bucket/dir`). */
  dirname(): string {
    return dirName(this.path);
  }

  /**
   * Pairs this (remote) file with a local path for {@link script}: as an input it is copied
   * to `local` before the command; as an output, `local` is copied here after it.
   * @param local - default: the file's basename, in the script's working directory.
   */
  stage(local?: string): StagingFile {
    return new StagingFile(new File(local ?? this.basename()), this);
  }

  toString(): string {
    return `File(${this.path})`;
  }

  [INSPECT](): string {
    return this.toString();
  }
}

/** A directory (a local path, or a prefix such as `s3://bucket/dir`). Its hash covers every file beneath. */
export class Dir {
  declare readonly [OPAQUE]: true;
  /** The path or URI, without a trailing slash (local paths normalized). */
  readonly path: string;
  /** How the hashes of the files beneath are computed. */
  readonly hashMode: FileHashMode;
  #hash: string | undefined;

  constructor(dirPath: string, options: FileOptions = {}) {
    if (typeof dirPath !== "string" || dirPath === "") {
      throw new TypeError("Dir(): expected a path or URI");
    }
    let p = isUri(dirPath) ? dirPath : path.normalize(dirPath);
    if (p.length > 1) p = p.replace(/\/+$/, "") || "/";
    if (/^[^:]+:\/$/.test(p)) p += "/";
    this.path = p;
    this.hashMode = options.hashMode ?? "stat";
    this.#hash = options.hash;
  }

  /** The filesystem that serves this directory. */
  get filesystem(): FileSystem {
    return getFileSystem(this.path);
  }

  /**
   * The directory's hash (of every file beneath), as recorded or (local) computed now.
   * @throws Error for a remote directory that was not prepared.
   */
  get hash(): string {
    if (this.#hash !== undefined) return this.#hash;
    const fs = this.filesystem;
    if (fs !== localFileSystem) throw unprepared("Dir", this.path, fs);
    return (this.#hash = this.localHash());
  }

  private localHash(): string {
    const hashes = localFileSystem
      .listSync(this.path)
      .map((stat) =>
        this.hashMode === "stat"
          ? hashFromStat(stat.path, stat)!
          : localFileSystem.hashSync(stat.path, this.hashMode),
      );
    return hashParts(["Dir", this.path, ...hashes]);
  }

  /** Whether the hash is known without I/O. */
  get prepared(): boolean {
    return this.#hash !== undefined;
  }

  /** Computes the hash if it is not known yet (lists the directory). */
  async prepare(): Promise<this> {
    this.#hash ??= await this.currentHash();
    return this;
  }

  /** The hash the directory has now. */
  async currentHash(): Promise<string> {
    if (this.filesystem === localFileSystem) return this.localHash();
    const files = await this.files();
    const hashes: string[] = new Array(files.length);
    await eachLimit(
      files.map((f, i) => [f, i] as const),
      8,
      async ([f, i]) => void (hashes[i] = (await f.prepare()).hash),
    );
    return hashParts(["Dir", this.path, ...hashes]);
  }

  /** Whether every file beneath still has the recorded hashes (none added or removed). */
  async isValid(): Promise<boolean> {
    if (this.#hash === undefined) return true;
    return (await this.currentHash()) === this.#hash;
  }

  /** Forgets the recorded hash. */
  invalidate(): this {
    this.#hash = undefined;
    return this;
  }

  /** The same directory with its hash taken again now (local); remote ones keep a known hash. */
  refreshed(): Dir {
    if (this.filesystem !== localFileSystem) return this;
    return new Dir(this.path, { hashMode: this.hashMode, hash: this.localHash() });
  }

  /** Whether the directory exists (for S3: whether any object is under the prefix). */
  async exists(): Promise<boolean> {
    const fs = this.filesystem;
    if (fs === localFileSystem) return (await fs.stat(this.path))?.isDirectory === true;
    return (await this.listing(false)).length > 0;
  }

  private async listing(recursive: boolean): Promise<FileStat[]> {
    const fs = this.filesystem;
    if (!fs.list) throw new Error(`the ${fs.name} filesystem cannot list ${this.path}`);
    return fs.list(this.path, { recursive });
  }

  /** Every file beneath the directory, sorted by path (hashes filled in from the listing). */
  async files(): Promise<File[]> {
    return (await this.listing(true))
      .filter((s) => !s.isDirectory)
      .map((stat) => fileFromStat(stat, this.hashMode));
  }

  /** A file inside the directory (`rel` may have several segments). */
  file(rel: string): File {
    return new File(joinPath(this.filesystem, this.path, rel), { hashMode: this.hashMode });
  }

  /** A directory inside this one. */
  dir(rel: string): Dir {
    return new Dir(joinPath(this.filesystem, this.path, rel), { hashMode: this.hashMode });
  }

  /** Files beneath the directory matching a glob pattern relative to it (`*.txt`, `**\/*.csv`). */
  glob(pattern: string): Promise<File[]> {
    return glob(`${this.path.replace(/\/+$/, "")}/${pattern}`, { hashMode: this.hashMode });
  }

  /** Copies every file beneath to another directory (any filesystem). Returns the destination. */
  async copyTo(dest: Dir | string): Promise<Dir> {
    const target = typeof dest === "string" ? new Dir(dest, { hashMode: this.hashMode }) : dest;
    const files = await this.files();
    await eachLimit(files, 8, async (f) => {
      await f.copyTo(target.file(f.path.slice(this.path.length).replace(/^\/+/, "")));
    });
    target.invalidate();
    return target;
  }

  /** Removes the directory and everything beneath it. */
  async remove(): Promise<void> {
    const fs = this.filesystem as FileSystem & { removeDir?(p: string): Promise<void> };
    if (fs.removeDir) await fs.removeDir(this.path);
    else {
      if (!fs.remove) throw new ReadOnlyFileSystemError(this.path, "remove", fs.name);
      for (const f of await this.files()) await fs.remove(f.path);
    }
    this.#hash = undefined;
  }

  /** The last component of the path. */
  basename(): string {
    return baseName(this.path);
  }

  /** The parent directory's path. */
  dirname(): string {
    return dirName(this.path);
  }

  /**
   * Pairs this (remote) directory with a local one for {@link script}: as an input, every
   * file beneath is copied there before the command; as an output, copied back after it.
   */
  stage(local?: string): StagingDir {
    return new StagingDir(new Dir(local ?? this.basename()), this);
  }

  toString(): string {
    return `Dir(${this.path})`;
  }

  [INSPECT](): string {
    return this.toString();
  }
}

/** A File for a listing entry, with its hash when the listing tells it. */
function fileFromStat(stat: FileStat, hashMode: FileHashMode): File {
  const hash = hashMode === "stat" ? hashFromStat(stat.path, stat) : undefined;
  return new File(stat.path, { hashMode, hash });
}

/** Options of {@link glob}. */
export interface GlobOptions {
  /** Hash mode of the files returned. */
  hashMode?: FileHashMode;
}

/**
 * Files matching a glob pattern, on any filesystem that can list: `data/*.txt`,
 * `results/**\/*.csv`, `s3://bucket/runs/{a,b}/*.json`. Sorted by path. `*` and `?` stay
 * within one path segment, `**` spans segments; names starting with `.` match only when
 * the pattern spells the dot. A pattern without wildcards gives the file if it exists.
 */
export async function glob(pattern: string, options: GlobOptions = {}): Promise<File[]> {
  const hashMode = options.hashMode ?? "stat";
  if (!hasMagic(pattern)) {
    const file = new File(pattern.replace(/\\(.)/g, "$1"), { hashMode });
    return (await file.exists()) ? [file] : [];
  }
  const fs = getFileSystem(pattern);
  const { base, depth } = globBase(pattern);
  let entries: FileStat[];
  if (fs === localFileSystem) {
    entries = [];
    await localFileSystem.walk(base, depth, entries);
  } else if (fs.list) {
    entries = await fs.list(base, { recursive: true });
  } else {
    throw new Error(
      `the ${fs.name} filesystem cannot list files, so "${pattern}" cannot be globbed`,
    );
  }
  const regexp = globToRegExp(pattern);
  return entries
    .filter((e) => !e.isDirectory && regexp.test(e.path))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => fileFromStat(e, hashMode));
}

/** A remote file or directory paired with a local one, for {@link script} staging. */
abstract class Staging<T extends { readonly path: string; copyTo(dest: T): Promise<T> }> {
  declare readonly [OPAQUE]: true;
  constructor(
    /** Where the command sees it. */
    readonly local: T,
    /** Where it lives. */
    readonly remote: T,
  ) {}

  /** Copies the remote side to the local path. */
  async stage(): Promise<T> {
    return this.remote.copyTo(this.local);
  }

  /** Copies the local side to the remote location. */
  async unstage(): Promise<T> {
    return this.local.copyTo(this.remote);
  }

  toString(): string {
    return `${this.constructor.name}(${this.local.path} <- ${this.remote.path})`;
  }

  [INSPECT](): string {
    return this.toString();
  }
}

/**
 * A remote file paired with a local path, for {@link script} staging. Made by
 * `file.stage(localPath)`. As a task argument its hash is the remote file's (plus the local
 * path), so a script reruns when the remote input changes.
 */
export class StagingFile extends Staging<File> {}

/** A remote directory paired with a local one, for {@link script} staging (`dir.stage(local)`). */
export class StagingDir extends Staging<Dir> {}

registerType(File, {
  name: "redun.File",
  // A hash not known yet (a remote file a worker made) travels as null; the scheduler prepares it.
  serialize: (f) => ({ path: f.path, hash: f.prepared ? f.hash : null, mode: f.hashMode }),
  deserialize: (d: { path: string; hash?: string | null; mode?: FileHashMode }) =>
    new File(d.path, { hash: d.hash ?? undefined, hashMode: d.mode ?? "stat" }),
  hash: (f) => f.hash,
  path: (f) => f.path,
  isValid: (f) => f.isValid(),
  prepare: (f) => f.prepare(),
  // A task's result is hashed as it is when the task returns (local files; remote files a
  // task wrote have forgotten their hash, and are prepared by the scheduler).
  postprocess: (f) => f.refreshed(),
});

registerType(Dir, {
  name: "redun.Dir",
  serialize: (d) => ({ path: d.path, hash: d.prepared ? d.hash : null, mode: d.hashMode }),
  deserialize: (d: { path: string; hash?: string | null; mode?: FileHashMode }) =>
    new Dir(d.path, { hash: d.hash ?? undefined, hashMode: d.mode ?? "stat" }),
  hash: (d) => d.hash,
  path: (d) => d.path,
  isValid: (d) => d.isValid(),
  prepare: (d) => d.prepare(),
  postprocess: (d) => d.refreshed(),
});

registerType(StagingFile, {
  name: "redun.StagingFile",
  serialize: (s) => ({ local: s.local, remote: s.remote }),
  deserialize: (d: { local: File; remote: File }) => new StagingFile(d.local, d.remote),
  hash: (s) => hashParts(["StagingFile", s.local.path, s.remote.hash]),
  isValid: (s) => s.remote.isValid(),
  prepare: async (s) => (await s.remote.prepare(), s),
});

registerType(StagingDir, {
  name: "redun.StagingDir",
  serialize: (s) => ({ local: s.local, remote: s.remote }),
  deserialize: (d: { local: Dir; remote: Dir }) => new StagingDir(d.local, d.remote),
  hash: (s) => hashParts(["StagingDir", s.local.path, s.remote.hash]),
  isValid: (s) => s.remote.isValid(),
  prepare: async (s) => (await s.remote.prepare(), s),
});
