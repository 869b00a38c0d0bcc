/**
 * The few reads the web UI needs beyond the library's provenance queries: every task name
 * with its number of versions, the dataflow between the calls of an execution (which
 * call's result went into which argument), and the recorded File and Dir values by path.
 */
import type { Kysely } from "kysely";
import type { Database } from "../backend/schema.ts";
import type { ProvenanceSource } from "../backend/queries.ts";
import { decodeForDisplay } from "../backend/opaque-value.ts";
import type { Wire } from "../values/serialize.ts";

/** A task name with its versions and jobs. */
export interface TaskSummary {
  fullname: string;
  versions: number;
  jobs: number;
  lastRun: string | null;
}

/** Every recorded task, by full name (with a filter on the name, if given). */
export async function listTasks(db: Kysely<Database>, search?: string): Promise<TaskSummary[]> {
  let query = db
    .selectFrom("task")
    .leftJoin("job", "job.task_hash", "task.hash")
    .select((eb) => [
      "task.fullname",
      eb.fn.count<number>("task.hash").distinct().as("versions"),
      eb.fn.count<number>("job.id").as("jobs"),
      eb.fn.max<string | null>("job.start_time").as("last_run"),
    ])
    .groupBy("task.fullname")
    .orderBy("task.fullname");
  if (search) query = query.where("task.fullname", "like", `%${search}%`);
  return (await query.execute()).map((r) => ({
    fullname: r.fullname,
    versions: Number(r.versions),
    jobs: Number(r.jobs),
    lastRun: r.last_run,
  }));
}

/** A result that flowed into an argument of another call. */
export interface DataflowEdge {
  /** The call whose result it was. */
  from: string;
  /** The call that took it as an argument. */
  to: string;
  /** The argument's name, or its position. */
  argument: string;
}

/** Which results went into which arguments, among these calls (`argument_result`). */
export async function dataflowEdges(
  db: Kysely<Database>,
  callHashes: readonly string[],
): Promise<DataflowEdge[]> {
  const edges: DataflowEdge[] = [];
  for (let i = 0; i < callHashes.length; i += 500) {
    const rows = await db
      .selectFrom("argument")
      .innerJoin("argument_result", "argument_result.arg_hash", "argument.arg_hash")
      .select([
        "argument.call_hash",
        "argument.arg_key",
        "argument.arg_position",
        "argument_result.result_call_hash",
      ])
      .where("argument.call_hash", "in", callHashes.slice(i, i + 500))
      .orderBy("argument.call_hash")
      .orderBy("argument.arg_position")
      .execute();
    for (const r of rows) {
      edges.push({
        from: r.result_call_hash,
        to: r.call_hash,
        argument: r.arg_key ?? String(r.arg_position),
      });
    }
  }
  return edges;
}

/** A recorded File or Dir value. */
export interface RecordedFile {
  valueHash: string;
  type: string;
  path: string;
}

/**
 * The recorded File and Dir values (a value that is itself a file or directory, as an
 * argument or a result), optionally only those of one path.
 */
export async function recordedFiles(
  source: ProvenanceSource,
  path?: string,
): Promise<RecordedFile[]> {
  const rows = await source.db
    .selectFrom("value")
    .select(["value_hash", "type", "format", "value"])
    .where("type", "in", ["redun.File", "redun.Dir"])
    .orderBy("value_hash")
    .execute();
  const files: RecordedFile[] = [];
  for (const row of rows) {
    let value: unknown;
    try {
      const wire = JSON.parse((await source.valueBytes(row)).toString("utf8")) as Wire;
      value = decodeForDisplay(wire);
    } catch {
      continue; // In a value store that is gone: nothing to show.
    }
    const p = (value as { path?: unknown } | null)?.path;
    if (typeof p !== "string" || (path !== undefined && p !== path)) continue;
    files.push({ valueHash: row.value_hash, type: row.type, path: p });
  }
  return files;
}
