/**
 * `redun log [ID] [--format text|json]`: executions (newest first, with their command lines
 * and tags, filtered by `--tag`, `--status`/`--exec-status`, `--task`, `--since`); an
 * execution's job tree (`-` the latest, `~N` the N-th latest); a job's call, arguments and
 * result (or error); a call; a value and where it came from; a task's versions and the
 * executions that ran it (by name); jobs by status (`--job-status`); and why a job ran or was
 * replayed (`--why JOB`); a file's lineage by its path. IDs may be shortened to an unambiguous prefix.
 */
import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import type { Backend } from "../backend/backend.ts";
import {
  executionJobs,
  getCall,
  getExecution,
  getJob,
  getValue,
  jobTree,
  listExecutions,
  resolveId,
  type ExecutionFilter,
  type ExecutionStatus,
  valueProvenance,
  type JobInfo,
  type JobNode,
} from "../backend/queries.ts";
import { getTags } from "../backend/tags.ts";
import { listJobs, taskHistory } from "../backend/history.ts";
import { explainJob } from "../backend/why.ts";
import { fileLineage } from "../backend/file-lineage.ts";
import { describeJobCalls } from "../backend/job-calls.ts";
import {
  formatExplanation,
  formatFileLineage,
  formatJobList,
  formatTaskHistory,
} from "./log-history.ts";
import { withBackendAndTypes } from "./value-types.ts";
import { UsageError } from "./error-report.ts";
import {
  callJson,
  formatCall,
  formatExecution,
  formatExecutions,
  formatJob,
  formatValue,
  preview,
  valueJson,
  type JobTreeView,
  type JobView,
} from "./log-format.ts";
import type { GlobalOptions } from "./global.ts";
import { parseTagValue } from "../config/config.ts";

interface LogOptions {
  format: string;
  limit: string;
  tag?: string[];
  status?: string;
  execStatus?: string;
  jobStatus?: string;
  task?: string;
  since?: string;
  why?: string;
}

/**
 * `--since`: an ISO 8601 date or time (`2026-11-30`, `2026-11-30T10:00`), or a time ago:
 * `90s`, `15m`, `2h`, `3d`, `1w`.
 */
export function parseSince(text: string, now = Date.now()): string {
  const ago = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(text.trim());
  if (ago) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[ago[2] as "s"];
    return new Date(now - Number(ago[1]) * unit * 1000).toISOString();
  }
  const at = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(at))
    throw new UsageError(
      `--since expects a date or time (2026-11-30, 2026-11-30T10:00) or a time ago ` +
        `(90s, 15m, 2h, 3d, 1w), got "${text}"`,
    );
  return new Date(at).toISOString();
}

const STATUSES: readonly ExecutionStatus[] = ["DONE", "FAILED", "RUNNING", "INTERRUPTED"];

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--tag key=value` (the value is JSON when it parses as JSON, as `redun tag add` reads it). */
function parseTagFilter(text: string): { key: string; value?: unknown } {
  const eq = text.indexOf("=");
  if (eq === 0 || text === "")
    throw new UsageError(`--tag expects key=value or key, got "${text}"`);
  if (eq < 0) return { key: text };
  return { key: text.slice(0, eq), value: parseTagValue(text.slice(eq + 1)) };
}

/** The execution filter that `redun log`'s options ask for. */
function executionFilter(options: LogOptions): ExecutionFilter {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit <= 0)
    throw new UsageError(`--limit expects a positive whole number, got "${options.limit}"`);
  const status = (options.execStatus ?? options.status)?.toUpperCase();
  if (status !== undefined && !STATUSES.includes(status as ExecutionStatus)) {
    throw new UsageError(
      `--status expects one of ${STATUSES.join(", ")} (any case), got "${options.status}"`,
    );
  }
  return {
    limit,
    tags: (options.tag ?? []).map(parseTagFilter),
    status: status as ExecutionStatus | undefined,
    task: options.task,
    since: options.since === undefined ? undefined : parseSince(options.since),
  };
}

/** Whether `redun log`'s argument names a file (a path with a slash, a URI, or a file here). */
function looksLikePath(id: string, isUri: (text: string) => boolean): boolean {
  return id.includes("/") || isUri(id) || fs.existsSync(id);
}

/** Jobs with a one-line description of their calls (`task(x=1, y=2)`). */
export async function describeJobs(backend: Backend, jobs: JobInfo[]): Promise<JobView[]> {
  const calls = await describeJobCalls(backend, jobs);
  return jobs.map((job) => ({ ...job, call: calls.get(job.id)! }));
}

function withViews(nodes: JobNode[], views: Map<string, JobView>): JobTreeView[] {
  return nodes.map((n) => ({ ...views.get(n.id)!, children: withViews(n.children, views) }));
}

async function show(
  backend: Backend,
  id: string | undefined,
  options: LogOptions,
): Promise<string> {
  // Loaded here, not with the command line: `redun --help` needs no filesystems.
  const { isUri } = await import("../files/filesystem.ts");
  const json = options.format === "json";
  const out = (data: unknown, text: () => string) =>
    json ? JSON.stringify(data, null, 2) + "\n" : text();
  const db = backend.db;
  if (options.why) {
    const job = await resolveId(db, options.why, ["job"]).catch((error) => {
      throw new UsageError(`--why: ${(error as Error).message}`);
    });
    const explanation = await explainJob(backend, job.id, (v) => preview(v, 40));
    return out(explanation, () => formatExplanation(explanation));
  }
  if (options.jobStatus) {
    const jobs = await listJobs(db, {
      status: options.jobStatus,
      task: options.task,
      since: options.since === undefined ? undefined : parseSince(options.since),
      limit: executionFilter({ ...options, status: undefined }).limit,
    });
    return out({ jobs }, () => formatJobList(jobs));
  }
  if (id === "-" || /^~\d+$/.test(id ?? "")) {
    const n = id === "-" ? 1 : Number(id!.slice(1));
    if (n < 1) throw new UsageError(`~N counts from ~1 (the latest execution), got "${id}"`);
    const [execution] = await listExecutions(db, { limit: 1, offset: n - 1 });
    if (!execution)
      throw new UsageError(
        n === 1 ? "No executions yet." : `There are fewer than ${n} executions.`,
      );
    id = execution.id;
  } else if (id && looksLikePath(id, isUri)) {
    const where = isUri(id) ? id : path.resolve(id);
    // Recorded as the workflow named it: absolute, or relative to where it ran (here, most
    // likely).
    const spellings = isUri(id) ? [id] : [where, path.relative(process.cwd(), where), id];
    const versions = await fileLineage(db, spellings);
    if (versions.length > 0 || !/^[0-9a-f-]+$/i.test(id))
      return out({ path: where, versions }, () => formatFileLineage(where, versions));
  } else if (id && /[^0-9a-f-]/i.test(id)) {
    // Ids are hexadecimal (hashes, UUIDs): anything else may be a task's name.
    const histories = await taskHistory(db, id);
    if (histories.length > 0) return out({ tasks: histories }, () => formatTaskHistory(histories));
  }
  if (!id) {
    const filter = executionFilter(options);
    const executions = await listExecutions(db, filter);
    const filtered = filter.tags!.length > 0 || filter.status || filter.task;
    return out({ executions }, () =>
      executions.length === 0 && filtered ? "No executions match.\n" : formatExecutions(executions),
    );
  }
  const target = await resolveId(db, id).catch((error) => {
    throw new UsageError((error as Error).message);
  });
  switch (target.type) {
    case "execution": {
      const execution = (await getExecution(db, target.id))!;
      const jobs = await executionJobs(db, target.id);
      const views = new Map((await describeJobs(backend, jobs)).map((j) => [j.id, j]));
      const tree = withViews(jobTree(jobs), views);
      const tags = await getTags(db, "execution", [target.id]);
      return out({ execution, tags, jobs: tree }, () => formatExecution(execution, tags, tree));
    }
    case "job": {
      const job = (await getJob(db, target.id))!;
      const [view] = await describeJobs(backend, [job]);
      const call = job.callHash ? await getCall(backend, job.callHash) : undefined;
      const tags = await getTags(db, "job", [target.id]);
      return out(
        { job: view, tags, call: call ? callJson(call) : null, failed: job.status === "FAILED" },
        () => formatJob(view!, tags, call),
      );
    }
    case "call_node": {
      const call = (await getCall(backend, target.id))!;
      const jobs = await backend.db
        .selectFrom("job")
        .select(["id", "status"])
        .where("call_hash", "=", target.id)
        .orderBy("start_time")
        .orderBy("id")
        .execute();
      const failed = jobs.length > 0 && jobs.every((j) => j.status === "FAILED");
      const tags = await getTags(db, "call_node", [target.id]);
      return out({ call: callJson(call), jobs: jobs.map((j) => j.id), tags, failed }, () =>
        formatCall(call, failed),
      );
    }
    case "value": {
      const value = (await getValue(backend, target.id))!;
      const provenance = await valueProvenance(db, target.id);
      const tags = await getTags(db, "value", [target.id]);
      return out({ value: valueJson(value), provenance, tags }, () =>
        formatValue(value, provenance, tags),
      );
    }
  }
}

/** Adds the `log` command. */
export function logCommand(program: Command): void {
  program
    .command("log")
    .description(
      "show provenance: executions (newest first), or an execution, job, call or value by id",
    )
    .argument(
      "[id]",
      "execution, job, call or value id (or an unambiguous prefix); - or ~N (the latest " +
        "execution, the N-th latest); a task name (its versions and executions); or a file " +
        "path or URI (the calls that produced it and those that read it)",
    )
    .option("--format <format>", "text or json", "text")
    .option("--limit <n>", "most executions (or jobs) to list", "50")
    .option("--tag <key=value>", "list executions with this tag (or key; repeatable)", collect)
    .option("--status <status>", "list executions that are DONE, FAILED, RUNNING or INTERRUPTED")
    .option("--exec-status <status>", "the same as --status")
    .option("--job-status <status>", "list jobs in this state (DONE, CACHED, FAILED, …)")
    .option("--task <name>", "list executions (or jobs) of this task (name or full name)")
    .option("--since <when>", "list what started since a date, or a time ago (2h, 3d)")
    .option("--why <job>", "why a job ran, or why it was replayed from the cache")
    .action(async (id: string | undefined, options: LogOptions) => {
      if (options.format !== "text" && options.format !== "json")
        throw new UsageError(`--format expects text or json, got "${options.format}"`);
      const filters = ["tag", "status", "execStatus", "jobStatus", "task", "since"] as const;
      if (id && filters.some((f) => options[f] !== undefined))
        throw new UsageError(
          "--tag, --status, --exec-status, --job-status, --task and --since filter lists: " +
            "give no id",
        );
      if (options.why && id) throw new UsageError("--why takes the job id: give no other id");
      await withBackendAndTypes(
        program.opts<GlobalOptions>(),
        async (backend) => {
          process.stdout.write(await show(backend, id, options));
        },
        { readOnly: true },
      );
    });
}
