/**
 * `redun fs cp|ls|cat`: files on any registered filesystem (local paths, `s3://`,
 * `http(s)://`) from the command line, through the same layer workflows use.
 */
import { once } from "node:events";
import path from "node:path";
import type { Command } from "commander";
import type { FileStat } from "../files/filesystem.ts";
import { UsageError } from "./error-report.ts";

/** Options of `redun fs cp`. */
interface CopyOptions {
  recursive?: boolean;
}

/** Options of `redun fs ls`. */
interface ListCommandOptions {
  recursive?: boolean;
  long?: boolean;
}

/** The engine's file modules, loaded when a command runs. */
async function files() {
  const [file, filesystem, glob] = await Promise.all([
    import("../files/file.ts"),
    import("../files/filesystem.ts"),
    import("../files/glob.ts"),
  ]);
  return { ...file, ...filesystem, ...glob };
}

/** `dir/name` for a local path or a URI. */
function joinTarget(dir: string, name: string, isUri: boolean): string {
  return isUri ? `${dir.replace(/\/+$/, "")}/${name}` : path.join(dir, name);
}

async function isDirectory(target: string): Promise<boolean> {
  const { Dir } = await files();
  try {
    return await new Dir(target).exists();
  } catch {
    return false; // a filesystem that cannot list has no directories
  }
}

async function copy(src: string, dest: string, options: CopyOptions): Promise<void> {
  const { File, Dir, glob, hasMagic, isUri } = await files();
  const destIsUri = isUri(dest);
  if (hasMagic(src)) {
    const matches = await glob(src);
    if (matches.length === 0) throw new UsageError(`no files match ${src}`);
    for (const file of matches) await file.copyTo(joinTarget(dest, file.basename(), destIsUri));
    return;
  }
  const file = new File(src);
  if (await file.exists()) {
    const into = dest.endsWith("/") || (await isDirectory(dest));
    await file.copyTo(into ? joinTarget(dest, file.basename(), destIsUri) : dest);
    return;
  }
  if (await isDirectory(src)) {
    if (!options.recursive) throw new UsageError(`${src} is a directory (use -r to copy it)`);
    const dir = new Dir(src);
    const into = dest.endsWith("/") || (await isDirectory(dest));
    await dir.copyTo(into ? joinTarget(dest, dir.basename(), destIsUri) : dest);
    return;
  }
  throw new UsageError(`no such file or directory: ${src}`);
}

function formatEntry(stat: FileStat, long: boolean): string {
  const name = stat.isDirectory ? `${stat.path}/` : stat.path;
  if (!long) return name;
  const size = stat.isDirectory ? "-" : String(stat.size);
  const mtime = stat.mtimeMs !== undefined ? new Date(stat.mtimeMs).toISOString() : "-";
  return `${size.padStart(12)}  ${mtime.padEnd(24)}  ${name}`;
}

async function list(target: string, options: ListCommandOptions): Promise<void> {
  const { glob, hasMagic, getFileSystem } = await files();
  let entries: FileStat[];
  if (hasMagic(target)) {
    const matches = await glob(target);
    entries = options.long
      ? await Promise.all(matches.map((f) => f.stat()))
      : matches.map((f) => ({ path: f.path, size: -1 }));
  } else {
    const fs = getFileSystem(target);
    const stat = await fs.stat(target);
    if (stat && !stat.isDirectory) {
      entries = [stat];
    } else {
      if (!fs.list) {
        if (!stat) throw new UsageError(`no such file: ${target}`);
        throw new UsageError(`the ${fs.name} filesystem cannot list ${target}`);
      }
      const dir = target === "." || target.endsWith("/") ? target.replace(/(.)\/+$/, "$1") : target;
      entries = await fs.list(dir === "." ? "" : dir, { recursive: options.recursive === true });
      // An empty directory is listed as empty; nothing at all is an error.
      if (entries.length === 0 && !stat) {
        throw new UsageError(`no such file or directory: ${target}`);
      }
    }
  }
  const out = entries.map((e) => formatEntry(e, options.long === true)).join("\n");
  if (out) process.stdout.write(out + "\n");
}

async function cat(targets: string[]): Promise<void> {
  const { File } = await files();
  for (const target of targets) {
    try {
      for await (const chunk of new File(target).readStream()) {
        if (!process.stdout.write(chunk as Buffer)) await once(process.stdout, "drain");
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException)?.code;
      if (code === "ENOENT") throw new UsageError(`no such file: ${target}`);
      if (code === "EISDIR") throw new UsageError(`${target} is a directory`);
      throw error;
    }
  }
}

/** Adds `redun fs` and its subcommands to the program. */
export function fsCommand(program: Command): void {
  const fs = program
    .command("fs")
    .description("copy, list and print files: local paths, s3://bucket/key, http(s)://");

  fs.command("cp")
    .description("copy a file (a directory with -r, or every match of a glob) to a path or URI")
    .argument("<src>", "file, directory or glob pattern")
    .argument("<dest>", "destination file, or directory (ending in / or existing)")
    .option("-r, --recursive", "copy a directory and everything beneath it")
    .action((src: string, dest: string, options: CopyOptions) => copy(src, dest, options));

  fs.command("ls")
    .description("list a directory (immediate entries; -r every file beneath), a file, or a glob")
    .argument("[path]", "directory, file or glob pattern", ".")
    .option("-r, --recursive", "every file beneath")
    .option("-l, --long", "size and modification time too")
    .action((target: string, options: ListCommandOptions) => list(target, options));

  fs.command("cat")
    .description("print files to standard output")
    .argument("<paths...>", "files")
    .action((targets: string[]) => cat(targets));
}
