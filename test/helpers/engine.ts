/**
 * Helpers for the engine tests: schedulers on real SQLite files in temp directories, direct
 * database reads, and child-process runs of fixture workflows.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import SQLite from "better-sqlite3";
import { Scheduler, type SchedulerOptions } from "../../src/index.ts";

export const TEST_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ROOT_DIR = path.resolve(TEST_DIR, "..");
export const WORKFLOWS = path.join(TEST_DIR, "fixtures", "workflows");
export const SCRIPTS = path.join(TEST_DIR, "fixtures", "scripts");

export type Mode = "thread" | "process" | "inline";

export interface EnvOptions {
  mode?: Mode;
  maxWorkers?: number;
  limits?: Record<string, number>;
  /** Extra executors by name, as `{ mode, max_workers }`. */
  executors?: Record<string, { mode: Mode; max_workers?: number }>;
}

/** A temp directory with a SQLite database and the schedulers opened on it. */
export interface Env {
  dir: string;
  dbPath: string;
  logs: string[];
  /** The first scheduler. */
  scheduler: Scheduler;
  /** A path inside the temp directory. */
  file(name: string): string;
  /** Another scheduler on the same database (closed at the end). */
  newScheduler(options?: EnvOptions): Scheduler;
  /** Rows of a SQL query on the database file. */
  query<T = Record<string, any>>(sql: string, ...params: unknown[]): T[];
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "redun-test-"));
}

export function schedulerOptions(
  dbPath: string,
  logs: string[],
  options: EnvOptions = {},
): SchedulerOptions {
  const executorConfigs: SchedulerOptions["executorConfigs"] = {
    default: {
      type: "local",
      options: { mode: options.mode ?? "thread", max_workers: options.maxWorkers ?? 4 },
    },
  };
  for (const [name, e] of Object.entries(options.executors ?? {})) {
    executorConfigs[name] = {
      type: "local",
      options: { mode: e.mode, max_workers: e.max_workers ?? 4 },
    };
  }
  return {
    backendOptions: { dbUri: "sqlite:///" + dbPath, sqlitePath: dbPath },
    executorConfigs,
    limits: options.limits ?? {},
    jobStatusInterval: 0,
    log: (text) => logs.push(text),
    ignoreWarnings: ["namespace"],
  };
}

/** Reads rows from a SQLite file with a separate connection. */
export function queryDb<T = Record<string, any>>(
  dbPath: string,
  sql: string,
  ...params: unknown[]
): T[] {
  const db = new SQLite(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Runs `fn` with a fresh environment; closes every scheduler and removes the directory after. */
export async function withEnv(options: EnvOptions, fn: (env: Env) => Promise<void>): Promise<void> {
  const dir = tempDir();
  const dbPath = path.join(dir, "redun.db");
  const logs: string[] = [];
  const schedulers: Scheduler[] = [];
  const newScheduler = (o: EnvOptions = options) => {
    const s = new Scheduler(schedulerOptions(dbPath, logs, o));
    schedulers.push(s);
    return s;
  };
  const env: Env = {
    dir,
    dbPath,
    logs,
    scheduler: newScheduler(),
    file: (name) => path.join(dir, name),
    newScheduler,
    query: (sql, ...params) => queryDb(dbPath, sql, ...params),
  };
  try {
    await fn(env);
  } finally {
    for (const s of schedulers) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The lines of a file, or [] when it does not exist (shared with the fixture workflows). */
export { lines } from "../fixtures/workflows/engine-util.ts";

/** What a child-process run prints (see fixtures/scripts/run-workflow.ts). */
export interface ChildRun {
  ok: boolean;
  result?: unknown;
  error?: { name: string; message: string };
  executionId: string;
  totals: Record<string, number>;
  counts: Record<string, Record<string, number>>;
  hashes: Record<string, string>;
}

export interface ChildRunRequest {
  db: string;
  /** Workflow module, relative to test/fixtures/workflows. */
  module: string;
  /** Exported task to call. */
  task: string;
  args: unknown[];
  mode?: Mode;
  /** Task exports whose status counts and hashes to report. */
  report?: string[];
  checkValid?: "full" | "shallow";
  env?: Record<string, string>;
}

/** Runs one task call in a child process (`node --import tsx`) and returns what it printed. */
export function runInChild(request: ChildRunRequest): Promise<ChildRun> {
  const { env, ...rest } = request;
  const payload = JSON.stringify({ ...rest, module: path.join(WORKFLOWS, request.module) });
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(SCRIPTS, "run-workflow.ts"), payload],
      {
        cwd: ROOT_DIR,
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = stdout.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line) as ChildRun);
      } catch {
        reject(
          new Error(
            `child exited with code ${code} without a result.\nstdout: ${stdout}\nstderr: ${stderr}`,
          ),
        );
      }
    });
  });
}

/** The largest number of overlapping start/end intervals in a log of `start i` / `end i` lines. */
export function maxOverlap(log: string[]): number {
  let running = 0;
  let max = 0;
  for (const line of log) {
    if (line.startsWith("start ")) max = Math.max(max, ++running);
    else if (line.startsWith("end ")) running--;
  }
  return max;
}
