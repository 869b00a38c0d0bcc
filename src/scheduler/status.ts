/**
 * The job status table: per task, how many jobs are pending, running, failed, cached, done
 * (and recovered and interrupted, columns shown only when a job is in them).
 */

/**
 * States counted in the table. INTERRUPTED: the job did not finish because the run was
 * interrupted (Ctrl-C, SIGTERM); it is recorded so, and runs again on the next run.
 */
export type JobState =
  "PENDING" | "RUNNING" | "FAILED" | "RECOVERED" | "CACHED" | "DONE" | "INTERRUPTED";

/**
 * RECOVERED: the job failed and a `catch_` handler took its error, so the run went on (the
 * job is recorded FAILED: it did fail).
 */
const COLUMNS: JobState[] = [
  "PENDING",
  "RUNNING",
  "FAILED",
  "RECOVERED",
  "CACHED",
  "DONE",
  "INTERRUPTED",
];
/** Columns shown only when some job is in them. */
const OCCASIONAL: ReadonlySet<JobState> = new Set(["RECOVERED", "INTERRUPTED"]);

function emptyRow(): Record<JobState, number> {
  return { PENDING: 0, RUNNING: 0, FAILED: 0, RECOVERED: 0, CACHED: 0, DONE: 0, INTERRUPTED: 0 };
}

/** Counts job states per task name. */
export class JobStatusTable {
  private readonly counts = new Map<string, Record<JobState, number>>();

  /** Moves one job of a task from one state to another (`from` undefined for a new job). */
  move(task: string, from: JobState | undefined, to: JobState): void {
    let row = this.counts.get(task);
    if (!row) {
      row = emptyRow();
      this.counts.set(task, row);
    }
    if (from) row[from]--;
    row[to]++;
  }

  /** The count of one state for one task (for tests and summaries). */
  count(task: string, state: JobState): number {
    return this.counts.get(task)?.[state] ?? 0;
  }

  /** Totals over all tasks. */
  totals(): Record<JobState, number> {
    const total = emptyRow();
    for (const row of this.counts.values()) for (const s of COLUMNS) total[s] += row[s];
    return total;
  }

  /** The table as text, one line per task and a total line. */
  format(title = "Jobs"): string {
    const total = this.totals();
    // The usual five columns, and RECOVERED or INTERRUPTED only when they count something.
    const columns = COLUMNS.filter((s) => !OCCASIONAL.has(s) || total[s] > 0);
    const header = ["TASK", ...columns, "TOTAL"];
    const rows: string[][] = [];
    for (const [task, row] of [...this.counts].sort(([a], [b]) => a.localeCompare(b))) {
      rows.push([
        task,
        ...columns.map((s) => String(row[s])),
        String(COLUMNS.reduce((n, s) => n + row[s], 0)),
      ]);
    }
    rows.push([
      "ALL",
      ...columns.map((s) => String(total[s])),
      String(COLUMNS.reduce((n, s) => n + total[s], 0)),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) =>
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
    return (
      [
        `[redun] ${title}:`,
        "[redun]   " + line(header),
        ...rows.map((r) => "[redun]   " + line(r)),
      ].join("\n") + "\n"
    );
  }
}
