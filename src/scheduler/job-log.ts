/**
 * What a run prints, by log level, as redun prints it: a `Start Execution` line, one line per
 * job (`Run Job 72bd3a1e: acme.align(sample='a', reads=File(…/a.fq)) on batch`, `Cached Job …`,
 * `Done Job … (1.20 s)`, `Failed Job …`, `Recovered Job …`), job tables and warnings. Lines are
 * gathered and written together once per turn of the event loop, so a fan-out of thousands
 * of jobs costs one write per batch, not one per line.
 */
import { inspect } from "node:util";
import type { LogLevel } from "../config/config.ts";
import { preview } from "../backend/value-preview.ts";
import type { Job } from "./job.ts";

const RANK: Record<LogLevel, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3 };

/** How wide one argument's preview may be in a job line. */
const ARG_WIDTH = 40;

/** Where a run's messages go, filtered by level. */
export class JobLog {
  private pending = "";
  private flushing = false;

  constructor(
    private write: (text: string) => void,
    private level: LogLevel = "INFO",
  ) {}

  /** Sends messages elsewhere from now on (what has been gathered goes there too). */
  redirect(write: (text: string) => void): void {
    this.write = write;
  }

  /** Shows messages of this level and above from now on. */
  setLevel(level: LogLevel): void {
    this.level = level;
  }

  /** Whether messages of a level are shown. */
  shows(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.level];
  }

  /** A message (whole lines, each ending in a newline) at a level. */
  message(level: LogLevel, text: string): void {
    if (!this.shows(level)) return;
    this.pending += text;
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => this.flush());
  }

  /** Writes what has been gathered now (before a table, at the end of a run). */
  flush(): void {
    this.flushing = false;
    if (this.pending === "") return;
    const text = this.pending;
    this.pending = "";
    this.write(text);
  }

  /** The `Start Execution` line, with the command line that started it when there is one. */
  startExecution(id: string, description: readonly string[] | undefined): void {
    const command = description?.length ? `:  redun ${description.join(" ")}` : "";
    this.message("INFO", `[redun] Start Execution ${id}${command}\n`);
  }

  /** A job started on an executor. */
  run(job: Job, args: readonly unknown[], executor: string): void {
    if (!this.shows("INFO")) return;
    job.startedAt = performance.now();
    this.message("INFO", `[redun] Run    Job ${this.describe(job, args)} on ${executor}\n`);
  }

  /**
   * A job replayed from the cache, or from a call already made in this run (`like`, the job
   * that made it: the line shows its call).
   */
  cached(job: Job, args: readonly unknown[] | undefined, callHash: string, like?: Job): void {
    if (!this.shows("INFO")) return;
    if (!args && like?.callText) job.callText = job.id.slice(0, 8) + like.callText.slice(8);
    const hashes = this.shows("DEBUG") ? ` (call_hash=${callHash.slice(0, 8)})` : "";
    this.message("INFO", `[redun] Cached Job ${this.describe(job, args)}${hashes}\n`);
  }

  /** A job that ran finished. */
  done(job: Job, callHash: string): void {
    if (!this.shows("INFO") || job.callText === undefined) return;
    const seconds = job.startedAt === undefined ? "" : ` (${elapsed(job.startedAt)})`;
    const hashes = this.shows("DEBUG") ? ` (call_hash=${callHash.slice(0, 8)})` : "";
    this.message("INFO", `[redun] Done   Job ${job.callText}${seconds}${hashes}\n`);
  }

  /** A job failed: its error's first line. */
  failed(job: Job, args: readonly unknown[] | undefined, error: unknown): void {
    if (!this.shows("WARNING")) return;
    this.message(
      "WARNING",
      `[redun] Failed Job ${this.describe(job, args)}: ${firstLine(error)}\n`,
    );
  }

  /** A failed job whose error a `catch_` handler took: the run goes on. */
  recovered(job: Job): void {
    if (!this.shows("INFO")) return;
    const call = job.callText ?? `${job.id.slice(0, 8)}: ${job.task.fullname}(…)`;
    this.message("INFO", `[redun] Recovered Job ${call}: its error was handled by catch_\n`);
  }

  /** `72bd3a1e: acme.align(sample='a', reads=File(…/a.fq))`, kept on the job for later lines. */
  private describe(job: Job, args: readonly unknown[] | undefined): string {
    if (job.callText !== undefined) return job.callText;
    const names = job.task.paramNames;
    const shown = args
      ? args.map((arg, i) => (names[i] ? `${names[i]}=` : "") + argPreview(arg)).join(", ")
      : "…";
    const hashes = this.shows("DEBUG") ? ` (eval_hash=${job.evalHash.slice(0, 8)})` : "";
    job.callText = `${job.id.slice(0, 8)}: ${job.task.fullname}(${shown})${hashes}`;
    return job.callText;
  }
}

/** An argument in a job line: numbers and short strings as they are, files by their name. */
function argPreview(value: unknown): string {
  switch (typeof value) {
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    case "string":
      return value.length <= ARG_WIDTH ? inspect(value) : preview(value, ARG_WIDTH);
  }
  // Files and directories by the end of their path (see preview).
  return preview(value, ARG_WIDTH);
}

function elapsed(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(2)} s`;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : preview(error, 200);
  return text.split("\n")[0]!;
}
