/**
 * Code packages: the workflow's source files as a reproducible tarball, stored once per
 * content hash in the scratch space and unpacked by `redun oneshot` before it imports the
 * task's module. Same files → same bytes → same hash: entries are sorted, with a fixed
 * mtime, owner and mode, and gzip writes no timestamp.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { gzipSync } from "node:zlib";
import { createRequire } from "node:module";
import { shellSplit } from "../../config/option-schema.ts";
import { getFileSystem, isUri } from "../../files/filesystem.ts";
import { matchGlob } from "../../files/glob.ts";
import { codePackagePath, scratchFileExists, writeScratchFile } from "./scratch.ts";
import { RedunError } from "../../values/errors.ts";
import { registerErrorClass } from "../../values/serialize.ts";

type Tar = typeof import("tar");
let tarModule: Tar | undefined;
/** `tar` is loaded on first use: `import "redun"` should not pay ~100 ms for it. */
function tar(): Tar {
  return (tarModule ??= createRequire(import.meta.url)("tar") as Tar);
}

/** The default `code_includes`: a TypeScript project's sources and JSON files. */
export const DEFAULT_CODE_INCLUDES: readonly string[] = [
  "**/*.ts",
  "**/*.mts",
  "**/*.js",
  "**/*.mjs",
  "**/*.json",
];

/** Directories never packaged (whatever the patterns say). */
export const ALWAYS_EXCLUDED_DIRS: readonly string[] = ["node_modules", ".git", ".redun-code"];

/** A built code package. */
export interface CodePackage {
  /** SHA-256 of the tarball's bytes (hex). */
  hash: string;
  /** The `.tar.gz` bytes. */
  bytes: Buffer;
  /** The packaged files, relative to the root, `/`-separated, sorted. */
  files: string[];
}

/** Options of {@link buildCodePackage}. */
export interface CodePackageOptions {
  /** Glob patterns of files to include (default {@link DEFAULT_CODE_INCLUDES}). */
  includes?: string | readonly string[];
  /** Glob patterns of files to leave out. */
  excludes?: string | readonly string[];
  /** Absolute directories beneath the root to skip entirely (e.g. a local scratch). */
  skipDirs?: readonly string[];
}

/**
 * Patterns from an option value: a list as is, a string split with shell-like quoting
 * (`"my dir/*.ts" lib/**` → two patterns).
 */
export function parsePatterns(value: string | readonly string[] | undefined | null): string[] {
  if (value === undefined || value === null) return [];
  return typeof value === "string" ? shellSplit(value) : [...value];
}

/** The files under `root` (relative, `/`-separated, sorted) that a package would hold. */
export function listCodeFiles(root: string, options: CodePackageOptions = {}): string[] {
  const includes =
    options.includes === undefined ? [...DEFAULT_CODE_INCLUDES] : parsePatterns(options.includes);
  const excludes = parsePatterns(options.excludes);
  const skip = new Set((options.skipDirs ?? []).map((d) => path.resolve(d)));
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // unreadable folder: not part of the code
    }
    for (const entry of entries) {
      const abs = path.join(dir, entry.name);
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const stat = fs.statSync(abs);
          isDir = stat.isDirectory();
          isFile = stat.isFile();
        } catch {
          continue; // dangling link
        }
        if (isDir) continue; // never follow directory links (cycles, node_modules links)
      }
      if (isDir) {
        if (ALWAYS_EXCLUDED_DIRS.includes(entry.name) || skip.has(abs)) continue;
        walk(abs, relPath);
      } else if (isFile) {
        if (!includes.some((p) => matchGlob(p, relPath))) continue;
        if (excludes.some((p) => matchGlob(p, relPath))) continue;
        out.push(relPath);
      }
    }
  };
  walk(path.resolve(root), "");
  return out.sort();
}

/** A fixed, valid modification time for every entry (2000-01-01). */
const FIXED_MTIME = new Date(Date.UTC(2000, 0, 1));

function tarEntry(name: string, data: Buffer): Buffer[] {
  const fields = {
    path: name,
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: data.length,
    mtime: FIXED_MTIME,
    type: "File" as const,
    uname: "",
    gname: "",
  };
  const header = new (tar().Header)(fields);
  header.encode();
  const blocks: Buffer[] = [];
  if (header.needPax) {
    // Long or non-ASCII names: a PAX header carries the full path.
    blocks.push(new (tar().Pax)({ path: name, mtime: FIXED_MTIME }).encode());
  }
  blocks.push(header.block!);
  blocks.push(data);
  const pad = (512 - (data.length % 512)) % 512;
  if (pad) blocks.push(Buffer.alloc(pad));
  return blocks;
}

/** Builds the `.tar.gz` of the listed files (relative to root). */
export function tarFiles(root: string, files: readonly string[]): Buffer {
  const blocks: Buffer[] = [];
  for (const file of [...files].sort()) {
    blocks.push(...tarEntry(file, fs.readFileSync(path.join(root, file))));
  }
  blocks.push(Buffer.alloc(1024)); // end of archive
  // zlib writes no file name and a zero mtime in the gzip header: reproducible bytes.
  return gzipSync(Buffer.concat(blocks), { level: 9 });
}

/**
 * Builds the code package of the files under `root` that match `includes` and not
 * `excludes` (never `node_modules/`, `.git/`, `.redun-code/`).
 */
export function buildCodePackage(root: string, options: CodePackageOptions = {}): CodePackage {
  const files = listCodeFiles(root, options);
  const bytes = tarFiles(root, files);
  return { hash: createHash("sha256").update(bytes).digest("hex"), bytes, files };
}

/**
 * Stores a package at `SCRATCH/code/HASH.tar.gz` unless it is already there.
 * @returns its path or URI, and whether it was written now.
 */
export async function uploadCodePackage(
  scratch: string,
  pkg: CodePackage,
): Promise<{ path: string; uploaded: boolean }> {
  const target = codePackagePath(scratch, pkg.hash);
  if (await scratchFileExists(target)) return { path: target, uploaded: false };
  await writeScratchFile(target, pkg.bytes);
  return { path: target, uploaded: true };
}

/** The hash in a code package's name (`.../HASH.tar.gz`). */
export function codePackageHash(uri: string): string {
  const base = uri.replace(/\/+$/, "").split("/").pop() ?? "";
  return base.replace(/\.tar\.gz$/, "") || "package";
}

/** Thrown when a code package cannot be read: oneshot reports it as "code missing". */
export class CodePackageError extends RedunError {
  override name = "CodePackageError";
  override get code() {
    return "REDUN_CODE_PACKAGE" as const;
  }
}
registerErrorClass(CodePackageError);

/**
 * Extracts a code package (local path or URI) into `DEST/.redun-code/HASH/` and returns
 * that directory. A package already extracted there is reused; extraction goes to a
 * temporary folder renamed into place, so concurrent jobs never see half a package.
 */
export async function extractCodePackage(uri: string, dest: string): Promise<string> {
  const hash = codePackageHash(uri);
  const target = path.join(dest, ".redun-code", hash);
  if (fs.existsSync(path.join(target, ".redun-complete"))) return target;
  const fsys = getFileSystem(uri);
  if (!(await fsys.stat(uri))) {
    throw new CodePackageError(`the code package ${uri} does not exist`);
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(path.dirname(target), `.${hash}.tmp-`));
  try {
    const source = isUri(uri) ? fsys.readStream(uri) : fs.createReadStream(uri);
    await pipeline(source, tar().extract({ cwd: tmp, strict: true }));
    fs.writeFileSync(path.join(tmp, ".redun-complete"), "");
    try {
      fs.renameSync(tmp, target);
    } catch (error) {
      // Another job extracted it first.
      if (!fs.existsSync(path.join(target, ".redun-complete"))) throw error;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  } catch (error) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (error instanceof CodePackageError) throw error;
    throw new CodePackageError(
      `cannot extract the code package ${uri} into ${target}: ${(error as Error).message}`,
    );
  }
  return target;
}

/** A directory for extracted code when the working directory is not writable. */
export function fallbackCodeDir(): string {
  return path.join(os.tmpdir(), "redun");
}
