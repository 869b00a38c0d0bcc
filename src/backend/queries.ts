/**
 * Provenance queries, for `redun log`, `redun tag`, export and the web UI: executions
 * newest first (filtered by tag, status or task), the job tree of an execution, a call with
 * its arguments and result, where a value came from, why a call misses the cache, and
 * finding a record by (a prefix of) its id. The same SQL for SQLite and PostgreSQL.
 */
import type { ExpressionBuilder, Kysely } from "kysely";
import { sql } from "./kysely-module.ts";
import type { Database, EntityType } from "./schema.ts";
import type { StoredValue } from "./value-rows.ts";
import { decodeForDisplay } from "./opaque-value.ts";
import { getTags } from "./tags.ts";
import type { Wire } from "../values/serialize.ts";
import { RedunError } from "../values/errors.ts";
import { registerErrorClass } from "../values/serialize.ts";

/** What the queries need: the database, and a way to get a stored value's bytes. */
export interface ProvenanceSource {
  db: Kysely<Database>;
  /** The serialized bytes of a value row (inline, or from the value store). */
  valueBytes(row: StoredValue): Promise<Buffer>;
}

/** An execution, with the state of its jobs. */
export interface ExecutionInfo {
  id: string;
  /**
   * The command line that started it, after `redun` (`["run", "--no-cache", "wf.ts",
   * "main", "--x", "3"]`), or the description a program gave.
   */
  args: string[];
  /** The root job. */
  jobId: string | null;
  /** The root job's task. */
  taskName: string | null;
  startTime: string | null;
  endTime: string | null;
  updatedTime: string;
  /**
   * FAILED if the root job failed (a failure a `catch_` handler recovered from does not fail
   * the execution), INTERRUPTED if a job was interrupted, RUNNING while the root job is
   * unfinished, else DONE.
   */
  status: "DONE" | "FAILED" | "RUNNING" | "INTERRUPTED";
  /** Number of jobs by status. */
  jobCounts: Record<string, number>;
  /** The execution's tags, by key then value. */
  tags: { key: string; value: unknown }[];
}

/** The status of an execution, as {@link ExecutionInfo} reports it. */
export type ExecutionStatus = ExecutionInfo["status"];

/** Which executions {@link listExecutions} returns, and how many. */
export interface ExecutionFilter {
  limit?: number;
  offset?: number;
  /** Only these executions. */
  ids?: string[];
  /** Only executions with every one of these tags (a tag without `value`: any value). */
  tags?: readonly { key: string; value?: unknown }[];
  /** Only executions in this state. */
  status?: ExecutionStatus;
  /** Only executions whose root task has this name or full name. */
  task?: string;
  /** Only executions that started at this time (ISO 8601) or later. */
  since?: string;
}

/** A job. */
export interface JobInfo {
  id: string;
  executionId: string;
  parentId: string | null;
  taskHash: string;
  taskName: string;
  status: string;
  cached: boolean;
  callHash: string | null;
  startTime: string;
  endTime: string | null;
  /** Milliseconds from start to end, or null while unfinished. */
  durationMs: number | null;
}

/** A job and the jobs it started, in the order they started. */
export interface JobNode extends JobInfo {
  children: JobNode[];
}

/** A recorded value. */
export interface ValueInfo {
  valueHash: string;
  type: string;
  /** `redun-wire+json`, or `ref` when the bytes are in the value store. */
  format: string;
  /** Serialized size in bytes. */
  size: number;
  /**
   * The decoded value; parts of a type this process cannot decode (a user class whose
   * module is not loaded) are `OpaqueValue`s, shown as `<acme.Thing: 123 bytes>`.
   */
  value: unknown;
  /** The value as stored, in the wire format (null for a missing value). */
  wire: Wire;
}

/** One argument of a call. */
export interface ArgumentInfo {
  argHash: string;
  position: number | null;
  key: string | null;
  value: ValueInfo;
  /** Calls whose results flowed into this argument. */
  upstream: string[];
}

/** A call node: a task applied to arguments, with its result (or error). */
export interface CallInfo {
  callHash: string;
  taskName: string;
  taskHash: string;
  argsHash: string;
  evalHash: string;
  timestamp: string;
  arguments: ArgumentInfo[];
  /** The result, or the error of a failed call. */
  result: ValueInfo;
  /** Calls made beneath this one, in order. */
  children: { callHash: string; taskName: string }[];
}

export type { EntityType };

function parseArgs(text: string): string[] {
  try {
    const parsed = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.map(String) : [String(parsed)];
  } catch {
    return [text];
  }
}

function durationMs(start: string, end: string | null): number | null {
  if (!end) return null;
  const ms = Date.parse(end) - Date.parse(start);
  return Number.isFinite(ms) ? ms : null;
}

function executionStatus(
  counts: Record<string, number>,
  root: string | null,
): ExecutionInfo["status"] {
  // A failure a catch_ handler recovered from does not fail the execution: its root does.
  if (root === "FAILED") return "FAILED";
  if (counts.INTERRUPTED || root === "INTERRUPTED") return "INTERRUPTED";
  if (root === null || root === "RUNNING" || root === "PENDING") return "RUNNING";
  return "DONE";
}

type ExecutionQuery = ExpressionBuilder<
  Database & { job: Database["job"]; task: Database["task"] },
  "execution" | "job" | "task"
>;

/** Whether any job of the execution is in this state. */
function anyJobIs(eb: ExecutionQuery, state: "INTERRUPTED") {
  return eb.exists(
    eb
      .selectFrom("job as other")
      .select("other.id")
      .whereRef("other.execution_id", "=", "execution.id")
      .where("other.status", "=", state),
  );
}

/** The SQL form of {@link executionStatus}. */
function statusIs(eb: ExecutionQuery, status: ExecutionStatus) {
  const failed = eb("job.status", "=", "FAILED");
  if (status === "FAILED") return failed;
  const interrupted = eb.or([anyJobIs(eb, "INTERRUPTED"), eb("job.status", "=", "INTERRUPTED")]);
  const notFailed = eb.or([eb("job.status", "is", null), eb("job.status", "!=", "FAILED")]);
  if (status === "INTERRUPTED") return eb.and([notFailed, interrupted]);
  const unfinished = eb.or([
    eb("job.status", "is", null),
    eb("job.status", "in", ["RUNNING", "PENDING"]),
  ]);
  return eb.and([
    notFailed,
    eb.not(interrupted),
    status === "RUNNING" ? unfinished : eb.not(unfinished),
  ]);
}

/**
 * Executions, newest first (by the start of their root job), with their tags; filtered by
 * ids, tags, status and root task, then paged by `offset` and `limit`.
 */
export async function listExecutions(
  db: Kysely<Database>,
  options: ExecutionFilter = {},
): Promise<ExecutionInfo[]> {
  let query = db
    .selectFrom("execution")
    .leftJoin("job", "job.id", "execution.job_id")
    .leftJoin("task", "task.hash", "job.task_hash")
    .select([
      "execution.id",
      "execution.args",
      "execution.job_id",
      "execution.updated_time",
      "job.start_time",
      "job.end_time",
      "job.status",
      "task.fullname",
    ])
    .orderBy(sql`coalesce(job.start_time, execution.updated_time)`, "desc")
    .orderBy("execution.id", "desc");
  if (options.ids)
    query = query.where("execution.id", "in", options.ids.length ? options.ids : [""]);
  for (const tag of options.tags ?? []) {
    query = query.where("execution.id", "in", (eb) => {
      let tagged = eb
        .selectFrom("tag")
        .select("tag.entity_id")
        .where("tag.entity_type", "=", "execution")
        .where("tag.key", "=", tag.key);
      if (tag.value !== undefined)
        tagged = tagged.where("tag.value", "=", JSON.stringify(tag.value));
      return tagged;
    });
  }
  const { status, task, since } = options;
  if (status) query = query.where((eb) => statusIs(eb, status));
  if (since)
    query = query.where(sql<string>`coalesce(job.start_time, execution.updated_time)`, ">=", since);
  if (task)
    query = query.where((eb) =>
      eb.or([eb("task.fullname", "=", task), eb("task.name", "=", task)]),
    );
  if (options.limit !== undefined) query = query.limit(options.limit);
  if (options.offset) query = query.offset(options.offset);
  const rows = await query.execute();
  if (rows.length === 0) return [];
  const counts = await db
    .selectFrom("job")
    .select(["execution_id", "status", (eb) => eb.fn.countAll<number>().as("n")])
    .where(
      "execution_id",
      "in",
      rows.map((r) => r.id),
    )
    .groupBy(["execution_id", "status"])
    .execute();
  const byExecution = new Map<string, Record<string, number>>();
  for (const c of counts) {
    const entry = byExecution.get(c.execution_id) ?? {};
    entry[c.status] = Number(c.n);
    byExecution.set(c.execution_id, entry);
  }
  const tags = new Map<string, ExecutionInfo["tags"]>();
  const ids = rows.map((r) => r.id);
  for (let i = 0; i < ids.length; i += 500) {
    for (const t of await getTags(db, "execution", ids.slice(i, i + 500))) {
      const list = tags.get(t.entityId) ?? [];
      list.push({ key: t.key, value: t.value });
      tags.set(t.entityId, list);
    }
  }
  return rows.map((r) => {
    const jobCounts = byExecution.get(r.id) ?? {};
    return {
      id: r.id,
      args: parseArgs(r.args),
      jobId: r.job_id,
      taskName: r.fullname ?? null,
      startTime: r.start_time ?? null,
      endTime: r.end_time ?? null,
      updatedTime: r.updated_time,
      status: executionStatus(jobCounts, r.status ?? null),
      jobCounts,
      tags: tags.get(r.id) ?? [],
    };
  });
}

/** One execution, or undefined. */
export async function getExecution(
  db: Kysely<Database>,
  id: string,
): Promise<ExecutionInfo | undefined> {
  return (await listExecutions(db, { ids: [id] }))[0];
}

/** Jobs with their task names, for queries of jobs (`history.ts` too). @internal */
export function jobSelect(db: Kysely<Database>) {
  return db
    .selectFrom("job")
    .leftJoin("task", "task.hash", "job.task_hash")
    .leftJoin("call_node", "call_node.call_hash", "job.call_hash")
    .select([
      "job.id",
      "job.execution_id",
      "job.parent_id",
      "job.task_hash",
      "job.status",
      "job.cached",
      "job.call_hash",
      "job.start_time",
      "job.end_time",
      "task.fullname",
      "call_node.task_name",
    ]);
}

type JobRow = Awaited<ReturnType<ReturnType<typeof jobSelect>["execute"]>>[number];

/** A row of {@link jobSelect} as a {@link JobInfo}. @internal */
export function toJobInfo(r: JobRow): JobInfo {
  return {
    id: r.id,
    executionId: r.execution_id,
    parentId: r.parent_id,
    taskHash: r.task_hash,
    taskName: r.fullname ?? r.task_name ?? r.task_hash,
    status: r.status,
    cached: Number(r.cached) === 1,
    callHash: r.call_hash,
    startTime: r.start_time,
    endTime: r.end_time,
    durationMs: durationMs(r.start_time, r.end_time),
  };
}

/** The jobs of an execution, in the order they started. */
export async function executionJobs(db: Kysely<Database>, executionId: string): Promise<JobInfo[]> {
  const rows = await jobSelect(db)
    .where("job.execution_id", "=", executionId)
    .orderBy("job.start_time")
    .orderBy("job.id")
    .execute();
  return rows.map(toJobInfo);
}

/** One job, or undefined. */
export async function getJob(db: Kysely<Database>, jobId: string): Promise<JobInfo | undefined> {
  const row = await jobSelect(db).where("job.id", "=", jobId).executeTakeFirst();
  return row ? toJobInfo(row) : undefined;
}

/** Arranges jobs as trees: the roots (jobs without a parent among them), children nested. */
export function jobTree(jobs: readonly JobInfo[]): JobNode[] {
  const nodes = new Map<string, JobNode>(jobs.map((j) => [j.id, { ...j, children: [] }]));
  const roots: JobNode[] = [];
  for (const job of jobs) {
    const node = nodes.get(job.id)!;
    const parent = job.parentId ? nodes.get(job.parentId) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  return roots;
}

/** Recorded values by hash, decoded (values missing from the database are left out). */
export async function getValues(
  source: ProvenanceSource,
  valueHashes: readonly string[],
): Promise<Map<string, ValueInfo>> {
  const found = new Map<string, ValueInfo>();
  const unique = [...new Set(valueHashes)];
  for (let i = 0; i < unique.length; i += 500) {
    const rows = await source.db
      .selectFrom("value")
      .select(["value_hash", "type", "format", "value"])
      .where("value_hash", "in", unique.slice(i, i + 500))
      .execute();
    for (const row of rows) {
      const bytes = await source.valueBytes(row);
      const wire = JSON.parse(bytes.toString("utf8")) as Wire;
      found.set(row.value_hash, {
        valueHash: row.value_hash,
        type: row.type,
        format: row.format,
        size: bytes.length,
        value: decodeForDisplay(wire),
        wire,
      });
    }
  }
  return found;
}

/** One recorded value, decoded, or undefined. */
export async function getValue(
  source: ProvenanceSource,
  valueHash: string,
): Promise<ValueInfo | undefined> {
  return (await getValues(source, [valueHash])).get(valueHash);
}

function missingValue(valueHash: string): ValueInfo {
  return { valueHash, type: "missing", format: "missing", size: 0, value: undefined, wire: null };
}

/** A call node with its arguments (and where they came from), result and child calls. */
export async function getCall(
  source: ProvenanceSource,
  callHash: string,
): Promise<CallInfo | undefined> {
  const { db } = source;
  const node = await db
    .selectFrom("call_node")
    .selectAll()
    .where("call_hash", "=", callHash)
    .executeTakeFirst();
  if (!node) return undefined;
  const args = await db
    .selectFrom("argument")
    .selectAll()
    .where("call_hash", "=", callHash)
    .orderBy("arg_position")
    .orderBy("arg_key")
    .execute();
  const upstream = args.length
    ? await db
        .selectFrom("argument_result")
        .selectAll()
        .where(
          "arg_hash",
          "in",
          args.map((a) => a.arg_hash),
        )
        .orderBy("result_call_hash")
        .execute()
    : [];
  const children = await db
    .selectFrom("call_edge")
    .innerJoin("call_node", "call_node.call_hash", "call_edge.child_id")
    .select(["call_edge.child_id", "call_node.task_name"])
    .where("call_edge.parent_id", "=", callHash)
    .orderBy("call_edge.call_order")
    .execute();
  const values = await getValues(source, [node.value_hash, ...args.map((a) => a.value_hash)]);
  return {
    callHash: node.call_hash,
    taskName: node.task_name,
    taskHash: node.task_hash,
    argsHash: node.args_hash,
    evalHash: node.eval_hash,
    timestamp: node.timestamp,
    arguments: args.map((a) => ({
      argHash: a.arg_hash,
      position: a.arg_position === null ? null : Number(a.arg_position),
      key: a.arg_key,
      value: values.get(a.value_hash) ?? missingValue(a.value_hash),
      upstream: upstream.filter((u) => u.arg_hash === a.arg_hash).map((u) => u.result_call_hash),
    })),
    result: values.get(node.value_hash) ?? missingValue(node.value_hash),
    children: children.map((c) => ({ callHash: c.child_id, taskName: c.task_name })),
  };
}

/** Where a value came from and where it went. */
export interface ValueProvenance {
  /** Calls whose final result is this value. */
  producedBy: { callHash: string; taskName: string; timestamp: string }[];
  /** Eval hashes whose recorded single reduction is this value. */
  evaluations: { evalHash: string; taskHash: string }[];
  /** Calls that took this value as an argument. */
  usedBy: { callHash: string; taskName: string; position: number | null; key: string | null }[];
}

/** The upstream (producing calls) and downstream (consuming calls) of a value. */
export async function valueProvenance(
  db: Kysely<Database>,
  valueHash: string,
): Promise<ValueProvenance> {
  const producedBy = await db
    .selectFrom("call_node")
    .select(["call_hash", "task_name", "timestamp"])
    .where("value_hash", "=", valueHash)
    .orderBy("timestamp")
    .orderBy("call_hash")
    .execute();
  const evaluations = await db
    .selectFrom("evaluation")
    .select(["eval_hash", "task_hash"])
    .where("value_hash", "=", valueHash)
    .orderBy("eval_hash")
    .execute();
  const usedBy = await db
    .selectFrom("argument")
    .innerJoin("call_node", "call_node.call_hash", "argument.call_hash")
    .select([
      "argument.call_hash",
      "call_node.task_name",
      "argument.arg_position",
      "argument.arg_key",
    ])
    .where("argument.value_hash", "=", valueHash)
    .orderBy("call_node.timestamp")
    .orderBy("argument.call_hash")
    .execute();
  return {
    producedBy: producedBy.map((r) => ({
      callHash: r.call_hash,
      taskName: r.task_name,
      timestamp: r.timestamp,
    })),
    evaluations: evaluations.map((r) => ({ evalHash: r.eval_hash, taskHash: r.task_hash })),
    usedBy: usedBy.map((r) => ({
      callHash: r.call_hash,
      taskName: r.task_name,
      position: r.arg_position === null ? null : Number(r.arg_position),
      key: r.arg_key,
    })),
  };
}

/** The calls whose results flowed into an argument (`argument_result`). */
export async function argumentUpstream(db: Kysely<Database>, argHash: string): Promise<string[]> {
  const rows = await db
    .selectFrom("argument_result")
    .select("result_call_hash")
    .where("arg_hash", "=", argHash)
    .orderBy("result_call_hash")
    .execute();
  return rows.map((r) => r.result_call_hash);
}

/** Why a call missed the cache (see {@link missReason}). */
export type MissReason = "new task" | "new args" | "new call";

/**
 * Why a call (a task hash applied to an args hash) has no recorded evaluation, for dry
 * runs: `new task` when the same arguments were evaluated by a task of the same full name
 * with another hash (its code changed); `new args` when this task hash was evaluated with
 * other arguments (same code); else `new call`. Both lookups use indexes (`evaluation`
 * by task and args hash, `task` by full name).
 */
export async function missReason(
  db: Kysely<Database>,
  call: { taskName: string; taskHash: string; argsHash: string },
): Promise<MissReason> {
  const otherCode = await db
    .selectFrom("task")
    .innerJoin("evaluation", "evaluation.task_hash", "task.hash")
    .select("evaluation.eval_hash")
    .where("task.fullname", "=", call.taskName)
    .where("task.hash", "!=", call.taskHash)
    .where("evaluation.args_hash", "=", call.argsHash)
    .limit(1)
    .executeTakeFirst();
  if (otherCode) return "new task";
  const otherArgs = await db
    .selectFrom("evaluation")
    .select("eval_hash")
    .where("task_hash", "=", call.taskHash)
    .limit(1)
    .executeTakeFirst();
  return otherArgs ? "new args" : "new call";
}

const ID_COLUMNS = {
  execution: ["execution", "id"],
  job: ["job", "id"],
  call_node: ["call_node", "call_hash"],
  value: ["value", "value_hash"],
} as const;

/** An id that names no record, or several. */
export class IdLookupError extends RedunError {
  override name = "IdLookupError";
  override get code() {
    return "REDUN_ID_LOOKUP" as const;
  }
}
registerErrorClass(IdLookupError);

/**
 * Finds what an id (or an unambiguous prefix of at least 4 characters) names: an
 * execution, a job, a call node or a value.
 * @throws IdLookupError when it names nothing, or more than one record.
 */
export async function resolveId(
  db: Kysely<Database>,
  id: string,
  types: readonly EntityType[] = ["execution", "job", "call_node", "value"],
): Promise<{ type: EntityType; id: string }> {
  if (id.length < 4)
    throw new IdLookupError(`"${id}" is too short: give at least 4 characters of an id`);
  const matches: { type: EntityType; id: string }[] = [];
  for (const type of types) {
    const [table, column] = ID_COLUMNS[type];
    const exact = await (db as Kysely<any>)
      .selectFrom(table)
      .select(column)
      .where(column, "=", id)
      .executeTakeFirst();
    if (exact) return { type, id };
    if (!/^[A-Za-z0-9-]+$/.test(id)) continue;
    const prefixed = await (db as Kysely<any>)
      .selectFrom(table)
      .select(column)
      .where(column, "like", `${id}%`)
      .orderBy(column)
      .limit(2)
      .execute();
    for (const row of prefixed)
      if (String(row[column]).startsWith(id)) matches.push({ type, id: String(row[column]) });
  }
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0)
    throw new IdLookupError(`no execution, job, call or value has the id "${id}"`);
  throw new IdLookupError(
    `"${id}" is ambiguous: ${matches.map((m) => `${m.type} ${m.id}`).join(", ")}; give more characters`,
  );
}
