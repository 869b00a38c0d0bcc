/** Helpers for end-to-end tests of the `redun` command, run as a user would run it. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = path.join(REPO, "bin", "redun.mjs");

/** A temporary project directory that has the package installed (linked) as `redun`. */
export function makeProject(files: Record<string, string>): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "redun-cli-")));
  fs.mkdirSync(path.join(dir, "node_modules", ".bin"), { recursive: true });
  fs.symlinkSync(REPO, path.join(dir, "node_modules", "redun"), "dir");
  fs.symlinkSync(BIN, path.join(dir, "node_modules", ".bin", "redun"));
  for (const [name, content] of Object.entries(files)) writeFile(dir, name, content);
  return dir;
}

/** Writes a file in the project (creating folders). */
export function writeFile(dir: string, name: string, content: string): void {
  fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
  fs.writeFileSync(path.join(dir, name), content);
}

/** The result of one command. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `redun ARGS` in a directory. */
export function redun(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
): CommandResult {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, REDUN_CONFIG: "", ...env },
    timeout: 120_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Counts by state in one row of a job status table (`[redun]   NAME  P  R  F  C  D  T`). */
function parseRow(line: string): Record<string, number> {
  const [pending, running, failed, cached, done, total] = line
    .replace(/^\[redun\]\s+/, "")
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return {
    PENDING: pending!,
    RUNNING: running!,
    FAILED: failed!,
    CACHED: cached!,
    DONE: done!,
    TOTAL: total!,
  };
}

/** The rows of the last job status table printed. */
function lastTable(stderr: string): string[] {
  const tables = stderr.split("[redun] Jobs:");
  if (tables.length < 2) throw new Error(`no job status table in:\n${stderr}`);
  return tables[tables.length - 1]!.split("\n").map((l) => l.replace(/^\[redun\]\s+/, ""));
}

/** The "ALL" row of the last job status table printed: counts by state. */
export function jobTotals(stderr: string): Record<string, number> {
  const row = lastTable(stderr).find((l) => l.startsWith("ALL "));
  if (!row) throw new Error(`no ALL row in:\n${stderr}`);
  return parseRow(row);
}

/** The row of one task in the last job status table. */
export function taskRow(stderr: string, task: string): Record<string, number> | undefined {
  const row = lastTable(stderr).find((l) => l.startsWith(task + " "));
  return row ? parseRow(row) : undefined;
}

/** Lines a task appended to a counter file (how many times its body really ran). */
export function countRuns(dir: string, name = "runs.log"): string[] {
  const file = path.join(dir, name);
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

/** A `redun` command running in the background. */
export interface BackgroundRun {
  child: ChildProcess;
  /** The output so far. */
  output(): { stdout: string; stderr: string };
  /** Resolves when it has exited (code -1 when a signal ended it); rejects if it cannot start. */
  done: Promise<CommandResult>;
}

/**
 * Starts `redun ARGS` in a directory without waiting for it (needed when it must be
 * signalled, or talks to a server in this process, which a synchronous spawn would starve).
 * @param killAfterMs - SIGKILL it after this long (a hang fails the test, not the suite).
 */
export function startRedun(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
  killAfterMs?: number,
): BackgroundRun {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: { ...process.env, REDUN_CONFIG: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const killer =
    killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  const done = new Promise<CommandResult>((resolve, reject) => {
    child.once("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code: code ?? (signal ? -1 : 0), stdout, stderr });
    });
  });
  return { child, output: () => ({ stdout, stderr }), done };
}
