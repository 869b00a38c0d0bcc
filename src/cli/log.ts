/**
 * `redun log [ID] [--format text|json]`: executions (newest first); an execution's job
 * tree; a job's call, arguments and result (or error); a call; a value and where it came
 * from. IDs may be shortened to an unambiguous prefix.
 */
import type { Command } from "commander";
import type { Backend } from "../backend/backend.ts";
import {
  executionJobs,
  getCall,
  getExecution,
  getJob,
  getValue,
  getValues,
  jobTree,
  listExecutions,
  resolveId,
  valueProvenance,
  type JobInfo,
  type JobNode,
} from "../backend/queries.ts";
import { getTags } from "../backend/tags.ts";
import { withBackend } from "./backend.ts";
import { UsageError } from "./errors.ts";
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

interface LogOptions {
  format: string;
  limit: string;
}

/** Jobs with a one-line description of their calls (`task(x=1, y=2)`). */
export async function describeJobs(backend: Backend, jobs: JobInfo[]): Promise<JobView[]> {
  const callHashes = [...new Set(jobs.flatMap((j) => (j.callHash ? [j.callHash] : [])))];
  const args: {
    call_hash: string;
    value_hash: string;
    arg_key: string | null;
    arg_position: number | null;
  }[] = [];
  for (let i = 0; i < callHashes.length; i += 500) {
    args.push(
      ...(await backend.db
        .selectFrom("argument")
        .select(["call_hash", "value_hash", "arg_key", "arg_position"])
        .where("call_hash", "in", callHashes.slice(i, i + 500))
        .orderBy("call_hash")
        .orderBy("arg_position")
        .execute()),
    );
  }
  const values = await getValues(
    backend,
    args.map((a) => a.value_hash),
  );
  const byCall = new Map<string, string[]>();
  for (const a of args) {
    const list = byCall.get(a.call_hash) ?? [];
    const value = values.get(a.value_hash);
    const text = value ? preview(value.value, 30) : "?";
    list.push(a.arg_key ? `${a.arg_key}=${text}` : text);
    byCall.set(a.call_hash, list);
  }
  return jobs.map((job) => {
    // A failed call records no arguments.
    const call =
      job.callHash && job.status !== "FAILED"
        ? `${job.taskName}(${(byCall.get(job.callHash) ?? []).join(", ")})`
        : `${job.taskName}(…)`;
    return { ...job, call };
  });
}

function withViews(nodes: JobNode[], views: Map<string, JobView>): JobTreeView[] {
  return nodes.map((n) => ({ ...views.get(n.id)!, children: withViews(n.children, views) }));
}

async function show(
  backend: Backend,
  id: string | undefined,
  options: LogOptions,
): Promise<string> {
  const json = options.format === "json";
  const out = (data: unknown, text: () => string) =>
    json ? JSON.stringify(data, null, 2) + "\n" : text();
  const db = backend.db;
  if (!id) {
    const limit = Number(options.limit);
    if (!Number.isInteger(limit) || limit <= 0)
      throw new UsageError(`--limit expects a positive whole number, got "${options.limit}"`);
    const executions = await listExecutions(db, { limit });
    return out({ executions }, () => formatExecutions(executions));
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
    .argument("[id]", "execution, job, call or value id (or an unambiguous prefix)")
    .option("--format <format>", "text or json", "text")
    .option("--limit <n>", "most executions to list", "50")
    .action(async (id: string | undefined, options: LogOptions) => {
      if (options.format !== "text" && options.format !== "json")
        throw new UsageError(`--format expects text or json, got "${options.format}"`);
      await withBackend(program.opts<GlobalOptions>(), async (backend) => {
        process.stdout.write(await show(backend, id, options));
      });
    });
}
