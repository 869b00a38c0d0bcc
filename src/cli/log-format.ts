/**
 * How `redun log` shows provenance: plain text for people, and JSON (`--format json`)
 * whose values are in the wire format. Everything shown comes from the database, so the
 * same rows always print the same text.
 */
import { preview } from "../backend/value-preview.ts";
import type {
  CallInfo,
  ExecutionInfo,
  JobInfo,
  ValueInfo,
  ValueProvenance,
} from "../backend/queries.ts";
import type { Tag } from "../backend/tags.ts";
import type { Wire } from "../values/serialize.ts";

export { preview };

/** A value as JSON: identity, a one-line preview, and the value in the wire format. */
export interface ValueJson {
  valueHash: string;
  type: string;
  format: string;
  size: number;
  preview: string;
  value: Wire;
}

/** A job with the call it made, described in one line. */
export interface JobView extends JobInfo {
  /** `task(x=1, y=2)`, or `task(…)` when the arguments were not recorded. */
  call: string;
}

/** A job tree node with its call description. */
export interface JobTreeView extends JobView {
  children: JobTreeView[];
}

/** A value as JSON (the value as stored, so a type this process cannot decode loses nothing). */
export function valueJson(info: ValueInfo): ValueJson {
  return {
    valueHash: info.valueHash,
    type: info.type,
    format: info.format,
    size: info.size,
    preview: preview(info.value),
    value: info.wire,
  };
}

/** A call as JSON (values in the wire format). */
export function callJson(call: CallInfo) {
  return {
    ...call,
    arguments: call.arguments.map((a) => ({ ...a, value: valueJson(a.value) })),
    result: valueJson(call.result),
  };
}

const short = (id: string | null | undefined) => (id ? id.slice(0, 8) : "-");

function time(iso: string | null): string {
  return iso ? iso.slice(0, 19).replace("T", " ") : "-";
}

/** Milliseconds as seconds with two decimals, or `-`. */
export function duration(ms: number | null): string {
  return ms === null ? "-" : `${(ms / 1000).toFixed(2)}s`;
}

function status(s: string): string {
  return `[${s.padStart(Math.ceil((7 + s.length) / 2)).padEnd(7)}]`;
}

function executionDuration(e: ExecutionInfo): number | null {
  if (!e.startTime || !e.endTime) return null;
  return Date.parse(e.endTime) - Date.parse(e.startTime);
}

/** The command line after `redun` (`run wf.ts main --x 3`), as Python redun shows it. */
function argsText(args: string[]): string {
  return args.join(" ");
}

function tagsText(tags: Pick<Tag, "key" | "value">[]): string {
  return tags
    .map((t) => `${t.key}=${typeof t.value === "string" ? t.value : JSON.stringify(t.value)}`)
    .join(", ");
}

/** The list of executions. */
export function formatExecutions(executions: ExecutionInfo[]): string {
  if (executions.length === 0) return "No executions recorded.\n";
  return executions
    .map(
      (e) =>
        `Exec ${short(e.id)} ${status(e.status)} ${time(e.startTime ?? e.updatedTime)}  ` +
        `${duration(executionDuration(e)).padStart(8)}  ${argsText(e.args)}` +
        (e.tags.length ? `  (${tagsText(e.tags)})` : "") +
        "\n",
    )
    .join("");
}

function jobLine(job: JobView, indent: string): string {
  const state = job.cached && job.status === "CACHED" ? "CACHED" : job.status;
  return `${indent}Job ${short(job.id)} ${status(state)} ${time(job.startTime)}  ${job.call}  ${duration(job.durationMs)}\n`;
}

function formatTree(nodes: JobTreeView[], indent: string): string {
  return nodes.map((n) => jobLine(n, indent) + formatTree(n.children, indent + "  ")).join("");
}

/** One execution and its job tree. */
export function formatExecution(e: ExecutionInfo, tags: Tag[], jobs: JobTreeView[]): string {
  const counts = Object.entries(e.jobCounts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s} ${n}`)
    .join(", ");
  const total = Object.values(e.jobCounts).reduce((a, b) => a + b, 0);
  let text =
    `Exec ${e.id}\n` +
    `  Args:     ${argsText(e.args)}\n` +
    `  Status:   ${e.status}\n` +
    `  Task:     ${e.taskName ?? "-"}\n` +
    `  Started:  ${time(e.startTime)}\n` +
    `  Ended:    ${time(e.endTime)}\n` +
    `  Duration: ${duration(executionDuration(e))}\n` +
    `  Jobs:     ${total}${counts ? ` (${counts})` : ""}\n`;
  if (tags.length) text += `  Tags:     ${tagsText(tags)}\n`;
  text += `\nJobs:\n` + formatTree(jobs, "  ");
  return text;
}

function formatArguments(call: CallInfo): string {
  return call.arguments
    .map((a) => {
      const name = a.key ?? String(a.position);
      const from = a.upstream.length ? `  (from call ${a.upstream.map(short).join(", ")})` : "";
      return `  ${name} = ${preview(a.value.value)}${from}\n`;
    })
    .join("");
}

/** A call's arguments, result or error, and child calls. */
export function formatCall(call: CallInfo, failed: boolean): string {
  let text = `Call ${call.callHash}\n  Task: ${call.taskName} (${short(call.taskHash)})\n`;
  text += call.arguments.length ? `Arguments:\n${formatArguments(call)}` : "";
  text += failed
    ? `Error:\n  ${preview(call.result.value, 400)}\n`
    : `Result (${call.result.type}, ${call.result.size} bytes${call.result.format === "ref" ? ", in the value store" : ""}):\n  ${preview(call.result.value, 400)}\n`;
  if (call.children.length) {
    text += "Child calls:\n";
    text += call.children.map((c) => `  ${short(c.callHash)}  ${c.taskName}\n`).join("");
  }
  return text;
}

/** One job, with its call. */
export function formatJob(job: JobView, tags: Tag[], call: CallInfo | undefined): string {
  let text =
    `Job ${job.id}\n` +
    `  Task:      ${job.taskName} (${short(job.taskHash)})\n` +
    `  Call:      ${job.call}\n` +
    `  Status:    ${job.status}${job.cached ? " (cached)" : ""}\n` +
    `  Execution: ${job.executionId}\n` +
    `  Parent:    ${job.parentId ?? "-"}\n` +
    `  Started:   ${time(job.startTime)}\n` +
    `  Ended:     ${time(job.endTime)}\n` +
    `  Duration:  ${duration(job.durationMs)}\n`;
  if (tags.length) text += `  Tags:      ${tagsText(tags)}\n`;
  text += "\n";
  text += call
    ? formatCall(call, job.status === "FAILED")
    : `No call recorded${job.status === "RUNNING" ? " (the job did not finish)" : ""}.\n`;
  return text;
}

/** A value, and the calls that produced and used it. */
export function formatValue(value: ValueInfo, provenance: ValueProvenance, tags: Tag[]): string {
  let text =
    `Value ${value.valueHash}\n` +
    `  Type:   ${value.type}\n` +
    `  Size:   ${value.size} bytes${value.format === "ref" ? " (in the value store)" : ""}\n`;
  if (tags.length) text += `  Tags:   ${tagsText(tags)}\n`;
  text += `  Value:  ${preview(value.value, 400)}\n`;
  if (provenance.producedBy.length) {
    text += "Produced by:\n";
    text += provenance.producedBy
      .map((c) => `  call ${short(c.callHash)}  ${c.taskName}\n`)
      .join("");
  }
  if (provenance.usedBy.length) {
    text += "Used by:\n";
    text += provenance.usedBy
      .map((c) => `  call ${short(c.callHash)}  ${c.taskName} (argument ${c.key ?? c.position})\n`)
      .join("");
  }
  return text;
}
