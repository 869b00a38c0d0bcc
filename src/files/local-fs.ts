/**
 * The local filesystem: plain paths and `file://` URIs. Hashes are computed synchronously
 * when asked (a `stat`, or a chunked read for content hashes), so local `File`s need no
 * preparation.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  contentHash,
  hashFromStat,
  missingHash,
  type FileHashMode,
  type FileStat,
  type FileSystem,
  type ListOptions,
} from "./filesystem.ts";

/** A plain path for a local path or `file://` URI. */
export function localPath(p: string): string {
  return p.startsWith("file://") ? fileURLToPath(p) : p;
}

function toStat(p: string, stat: fs.Stats): FileStat {
  return {
    path: p,
    size: stat.isDirectory() ? 0 : stat.size,
    mtimeMs: stat.mtimeMs,
    isDirectory: stat.isDirectory() || undefined,
  };
}

const CHUNK = 1 << 20;

/** SHA-1 of a file read in 1 MiB chunks, synchronously. */
function digestFileSync(p: string): string {
  const hash = createHash("sha1");
  const fd = fs.openSync(p, "r");
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, CHUNK, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest("hex");
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** Files on this machine. */
export class LocalFileSystem implements FileSystem {
  readonly name = "local";
  readonly schemes = ["", "file"] as const;

  async stat(p: string): Promise<FileStat | undefined> {
    try {
      return toStat(p, await fs.promises.stat(localPath(p)));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** `stat`, synchronously. */
  statSync(p: string): FileStat | undefined {
    const stat = fs.statSync(localPath(p), { throwIfNoEntry: false });
    return stat ? toStat(p, stat) : undefined;
  }

  hashSync(p: string, mode: FileHashMode): string {
    const stat = this.statSync(p);
    if (!stat) return missingHash(p);
    if (mode === "content" && !stat.isDirectory) {
      return contentHash(p, digestFileSync(localPath(p)));
    }
    return hashFromStat(p, stat)!;
  }

  async hash(p: string, mode: FileHashMode): Promise<string> {
    if (mode === "stat") return hashFromStat(p, await this.stat(p))!;
    const stat = await this.stat(p);
    if (!stat || stat.isDirectory) return hashFromStat(p, stat)!;
    const hash = createHash("sha1");
    for await (const chunk of fs.createReadStream(localPath(p))) hash.update(chunk as Buffer);
    return contentHash(p, hash.digest("hex"));
  }

  readStream(p: string): Readable {
    return fs.createReadStream(localPath(p));
  }

  writeStream(p: string): Writable {
    const file = localPath(p);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    return fs.createWriteStream(file);
  }

  async write(p: string, data: Uint8Array): Promise<void> {
    const file = localPath(p);
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.writeFile(file, data);
  }

  async remove(p: string): Promise<void> {
    await fs.promises.rm(localPath(p), { force: true });
  }

  /** Removes a directory and everything beneath it. */
  async removeDir(p: string): Promise<void> {
    await fs.promises.rm(localPath(p), { recursive: true, force: true });
  }

  async copy(src: string, dest: string): Promise<void> {
    const target = localPath(dest);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    await fs.promises.copyFile(localPath(src), target);
  }

  async touch(p: string): Promise<void> {
    const file = localPath(p);
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    const now = new Date();
    try {
      await fs.promises.utimes(file, now, now);
    } catch (error) {
      if (!isMissing(error)) throw error;
      await (await fs.promises.open(file, "a")).close();
    }
  }

  async list(dir: string, options: ListOptions = {}): Promise<FileStat[]> {
    const out: FileStat[] = [];
    await this.walk(dir, options.recursive === false ? 1 : Infinity, out);
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /**
   * Entries beneath `dir`, down to `depth` levels (files only, except at the last level of
   * a bounded walk, where directories are listed too). Paths keep `dir` as it was written.
   */
  async walk(dir: string, depth: number, out: FileStat[]): Promise<void> {
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(localPath(dir || "."), { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    await Promise.all(
      entries.map(async (entry) => {
        const child = dir ? `${dir.replace(/\/+$/, "")}/${entry.name}` : entry.name;
        let isDir = entry.isDirectory();
        let stat: fs.Stats | undefined;
        if (entry.isSymbolicLink() || !isDir) {
          stat = await fs.promises.stat(localPath(child)).catch(() => undefined);
          if (!stat) return;
          isDir = stat.isDirectory();
        }
        if (isDir) {
          if (depth > 1) await this.walk(child, depth - 1, out);
          else if (depth === 1 && Number.isFinite(depth))
            out.push({ path: child, size: 0, isDirectory: true });
          return;
        }
        out.push(toStat(child, stat!));
      }),
    );
  }

  /** Every file beneath a directory with its stat, synchronously (for `Dir.hash`). */
  listSync(dir: string): FileStat[] {
    const root = localPath(dir);
    if (!fs.existsSync(root)) return [];
    const out: FileStat[] = [];
    const visit = (d: string, shown: string) => {
      for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
        const full = path.join(d, entry.name);
        const child = `${shown.replace(/\/+$/, "")}/${entry.name}`;
        const stat = fs.statSync(full, { throwIfNoEntry: false });
        if (!stat) continue;
        if (stat.isDirectory()) visit(full, child);
        else out.push(toStat(child, stat));
      }
    };
    visit(root, dir);
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  join(dir: string, rel: string): string {
    return dir.startsWith("file://") ? `${dir.replace(/\/+$/, "")}/${rel}` : path.join(dir, rel);
  }
}

/** The one local filesystem. */
export const localFileSystem = new LocalFileSystem();
