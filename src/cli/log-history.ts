/**
 * `redun log`'s views across executions, as text: jobs by status (`--job-status`), a task's
 * versions and executions (`redun log TASK`), a file's lineage (`redun log PATH`), and why a job ran or was replayed (`--why`).
 * Their JSON forms are the library's own objects.
 */
import type { TaskHistory } from "../backend/history.ts";
import type { JobInfo } from "../backend/queries.ts";
import type { JobExplanation } from "../backend/why.ts";
import type { FileCall, FileVersion } from "../backend/file-lineage.ts";

const short = (id: string | null | undefined) => (id ? id.slice(0, 8) : "-");
const time = (iso: string | null) => (iso ? iso.slice(0, 19).replace("T", " ") : "-");

/** Jobs, one line each: id, status, start time, task. */
export function formatJobList(jobs: readonly JobInfo[]): string {
  if (jobs.length === 0) return "No jobs match.\n";
  return (
    jobs
      .map(
        (j) =>
          `Job ${short(j.id)} ${j.status.padEnd(8)} ${time(j.startTime)}  ${j.taskName}` +
          `  (execution ${short(j.executionId)})`,
      )
      .join("\n") + "\n"
  );
}

/** A task's versions (newest first) and the executions that ran it. */
export function formatTaskHistory(histories: readonly TaskHistory[]): string {
  return histories
    .map((h) => {
      const lines = [`Task ${h.fullname}: ${h.versions.length} version(s)`];
      for (const v of h.versions) {
        lines.push(
          `  ${short(v.taskHash)}  ${v.jobs} job(s), first ${time(v.firstRun)}, last ` +
            `${time(v.lastRun)}`,
        );
      }
      lines.push("Executions (newest first):");
      for (const e of h.executions) {
        lines.push(`  Exec ${short(e.id)}  ${time(e.startTime)}  version ${short(e.taskHash)}`);
      }
      return lines.join("\n") + "\n";
    })
    .join("\n");
}

/** Why a job ran, or was replayed. */
export function formatExplanation(e: JobExplanation): string {
  const lines = [
    `Job ${short(e.job.id)} ${e.job.taskName} ${e.job.status}` +
      ` (execution ${short(e.job.executionId)}, ${time(e.job.startTime)})`,
    ...e.reasons.map((r) => `  ${r}`),
  ];
  if (e.comparedTo) {
    const by = e.comparedTo.jobId
      ? `job ${short(e.comparedTo.jobId)} of execution ${short(e.comparedTo.executionId)}`
      : "no recorded job";
    lines.push(
      `  ${e.verdict === "replayed" ? "Replayed" : "Compared with"} call ` +
        `${short(e.comparedTo.callHash)} (${time(e.comparedTo.timestamp)}, ${by})`,
    );
  }
  for (const a of e.changedArguments ?? []) {
    lines.push(
      `  ${a.name}: ${a.before ?? "(absent)"} → ${a.after ?? "(absent)"}` +
        (a.file ? `  (file ${a.file} changed)` : ""),
    );
  }
  if (e.sourceDiff) {
    lines.push("  Source diff (recorded, normalized):");
    for (const line of e.sourceDiff.trimEnd().split("\n").slice(2)) lines.push(`    ${line}`);
  }
  return lines.join("\n") + "\n";
}

function fileCallLine(call: FileCall): string {
  const where =
    call.key != null
      ? ` as ${call.key}`
      : call.position != null
        ? ` as argument ${call.position}`
        : "";
  const jobs = call.jobs.map((j) => `Job ${short(j.id)} ${j.status}`).join(", ");
  return (
    `    ${call.taskName}${where}  call ${short(call.callHash)}  ${time(call.timestamp)}` +
    (jobs ? `  (${jobs})` : "")
  );
}

/** The versions of a file, each with the calls that produced it and those that read it. */
export function formatFileLineage(path: string, versions: readonly FileVersion[]): string {
  if (versions.length === 0) return `No file recorded at ${path}.\n`;
  const lines = [`File ${path}: ${versions.length} version(s), oldest first`];
  for (const v of versions) {
    lines.push(`  Value ${short(v.valueHash)}`);
    lines.push(
      v.producedBy.length ? "   produced by:" : "   produced by: (an input, not made by a task)",
    );
    lines.push(...v.producedBy.map(fileCallLine));
    lines.push(v.readBy.length ? "   read by:" : "   read by: (no task)");
    lines.push(...v.readBy.map(fileCallLine));
  }
  return lines.join("\n") + "\n";
}
