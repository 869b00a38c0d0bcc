/**
 * File and Dir values: their hash follows what is on disk, so a cached result that
 * returns a File is replayed only while the file is unchanged.
 *
 * Local paths only for now; the full filesystem layer (S3, HTTP, streams, staging) builds
 * on this class.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { OPAQUE } from "../api/types.ts";
import { hashParts } from "../values/hash.ts";
import { registerType } from "../values/registry.ts";

/** How a file's hash is computed: from (path, size, mtime) (fast) or from its bytes. */
export type FileHashMode = "stat" | "content";

function statHash(p: string, mode: FileHashMode): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch {
    return hashParts(["File", p, "missing"]);
  }
  if (mode === "content" && stat.isFile()) {
    const hash = hashParts(["File", p, "content"]);
    return hashParts([hash, fileContentDigest(p)]);
  }
  return hashParts(["File", p, String(stat.size), String(stat.mtimeMs)]);
}

function fileContentDigest(p: string): string {
  return createHash("sha1").update(fs.readFileSync(p)).digest("hex");
}

/** A file on the local filesystem. */
export class File {
  declare readonly [OPAQUE]: true;
  /** The hash recorded when this value was made (or read back from the cache). */
  readonly hash: string;

  constructor(
    readonly path: string,
    options: { hashMode?: FileHashMode; hash?: string } = {},
  ) {
    this.hashMode = options.hashMode ?? "stat";
    this.hash = options.hash ?? statHash(path, this.hashMode);
  }

  readonly hashMode: FileHashMode;

  /** Whether the file still has the recorded hash. */
  isValid(): boolean {
    return statHash(this.path, this.hashMode) === this.hash;
  }

  exists(): boolean {
    return fs.existsSync(this.path);
  }

  read(): string {
    return fs.readFileSync(this.path, "utf8");
  }

  readBytes(): Buffer {
    return fs.readFileSync(this.path);
  }

  /** Writes the file and returns a File with the new hash. */
  write(data: string | Uint8Array): File {
    fs.mkdirSync(path.dirname(this.path), { recursive: true });
    fs.writeFileSync(this.path, data);
    return new File(this.path, { hashMode: this.hashMode });
  }

  basename(): string {
    return path.basename(this.path);
  }

  dirname(): string {
    return path.dirname(this.path);
  }

  toString(): string {
    return `File(${this.path})`;
  }
}

/** A directory on the local filesystem; its hash covers every file beneath it. */
export class Dir {
  declare readonly [OPAQUE]: true;
  readonly hash: string;

  constructor(
    readonly path: string,
    options: { hash?: string } = {},
  ) {
    this.hash = options.hash ?? this.computeHash();
  }

  private computeHash(): string {
    return hashParts(["Dir", this.path, ...this.files().map((f) => f.hash)]);
  }

  /** Every file beneath the directory, in sorted order. */
  files(): File[] {
    if (!fs.existsSync(this.path)) return [];
    const entries = fs.readdirSync(this.path, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath ?? (e as any).path, e.name))
      .sort()
      .map((p) => new File(p));
  }

  /** A file inside the directory. */
  file(rel: string): File {
    return new File(path.join(this.path, rel));
  }

  isValid(): boolean {
    return this.computeHash() === this.hash;
  }

  toString(): string {
    return `Dir(${this.path})`;
  }
}

registerType(File, {
  name: "redun.File",
  serialize: (f) => ({ path: f.path, hash: f.hash, mode: f.hashMode }),
  deserialize: (d: { path: string; hash: string; mode: FileHashMode }) =>
    new File(d.path, { hash: d.hash, hashMode: d.mode }),
  hash: (f) => f.hash,
  isValid: (f) => f.isValid(),
});

registerType(Dir, {
  name: "redun.Dir",
  serialize: (d) => ({ path: d.path, hash: d.hash }),
  deserialize: (d: { path: string; hash: string }) => new Dir(d.path, { hash: d.hash }),
  hash: (d) => d.hash,
  isValid: (d) => d.isValid(),
});
