/**
 * The provenance backend: cache lookups, and recording of tasks, values, calls, jobs and
 * executions. Writes are queued and flushed together in one transaction shortly after
 * they are made, so a busy scheduler writes in batches and a killed one loses at most the
 * last few milliseconds of finished work.
 */
import type { Kysely, Transaction } from "kysely";
import { openDatabase, type DatabaseHandle } from "./database.ts";
import { BatchLoader } from "./batch-loader.ts";
import { ensureSchema } from "./migrate.ts";
import type { Database, JobTable } from "./schema.ts";
import { deserializeValue, serializeValue } from "../values/serialize.ts";
import { handlerForValue } from "../values/registry.ts";

/** Where a value's bytes are stored and how they are encoded. */
export const VALUE_FORMAT = "redun-wire+json";

/** A value too large to record. */
export class ValueTooLargeError extends Error {
  override name = "ValueTooLargeError";
}

/** Options for opening a backend. */
export interface BackendOptions {
  /** A database URI; default `sqlite:///:memory:`. */
  dbUri?: string;
  /** For SQLite: the resolved database file. */
  sqlitePath?: string;
  /** Migrate the schema to the latest version if needed. Default true for SQLite. */
  automigrate?: boolean;
  /** Largest value, in serialized bytes, that may be recorded. Default 1e9. */
  maxValueSize?: number;
  /** Extra options for non-SQLite openers (credentials, …). */
  connection?: Record<string, unknown>;
}

/** A cached single reduction. */
export interface CachedEvaluation {
  valueHash: string;
  value: unknown;
}

/** A cached final result, with the task hashes of everything beneath it. */
export interface CachedCall extends CachedEvaluation {
  callHash: string;
  subtreeTaskHashes: string[];
}

type Rows<T extends keyof Database> = Database[T][];

const CHUNK_ROWS = 200;
const FLUSH_DELAY_MS = 20;

/** The provenance database as the scheduler uses it. */
export class Backend {
  private queue = emptyQueue();
  private jobs = new Map<string, JobTable>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private flushError: unknown;
  private readonly writtenValues = new Set<string>();
  private readonly writtenTasks = new Set<string>();
  readonly maxValueSize: number;

  private constructor(
    readonly handle: DatabaseHandle,
    options: BackendOptions,
  ) {
    this.maxValueSize = options.maxValueSize ?? 1_000_000_000;
  }

  /** Opens the database, checking (and by default migrating) its schema. */
  static async open(options: BackendOptions = {}): Promise<Backend> {
    const uri = options.dbUri ?? "sqlite:///:memory:";
    const handle = await openDatabase(uri, {
      sqlitePath: options.sqlitePath,
      ...options.connection,
    });
    try {
      await ensureSchema(handle, options.automigrate ?? handle.dialect === "sqlite");
    } catch (error) {
      await handle.close();
      throw error;
    }
    return new Backend(handle, options);
  }

  get db(): Kysely<Database> {
    return this.handle.db;
  }

  // ---- reads -------------------------------------------------------------------------

  private readonly evaluations = new BatchLoader<CachedEvaluation>(async (evalHashes) => {
    const rows = await this.db
      .selectFrom("evaluation")
      .innerJoin("value", "value.value_hash", "evaluation.value_hash")
      .select(["evaluation.eval_hash", "evaluation.value_hash", "value.value", "value.format"])
      .where("evaluation.eval_hash", "in", evalHashes)
      .execute();
    return new Map(
      rows.map((row) => [
        row.eval_hash,
        { valueHash: row.value_hash, value: this.decodeStored(row.value, row.format) },
      ]),
    );
  });

  /** The recorded single reduction for an eval hash (lookups of one tick are batched). */
  getEvaluation(evalHash: string): Promise<CachedEvaluation | undefined> {
    return this.evaluations.load(evalHash);
  }

  /** The newest finished call for an eval hash, with its final value. */
  async getCallByEvalHash(evalHash: string): Promise<CachedCall | undefined> {
    const row = await this.db
      .selectFrom("call_node")
      .innerJoin("value", "value.value_hash", "call_node.value_hash")
      .innerJoin("job", "job.call_hash", "call_node.call_hash")
      .select(["call_node.call_hash", "call_node.value_hash", "value.value", "value.format"])
      .where("call_node.eval_hash", "=", evalHash)
      .where("job.status", "in", ["DONE", "CACHED"])
      .orderBy("call_node.timestamp", "desc")
      .limit(1)
      .executeTakeFirst();
    if (!row) return undefined;
    const subtree = await this.db
      .selectFrom("call_subtree_task")
      .select("task_hash")
      .where("call_hash", "=", row.call_hash)
      .execute();
    return {
      callHash: row.call_hash,
      valueHash: row.value_hash,
      value: this.decodeStored(row.value, row.format),
      subtreeTaskHashes: subtree.map((r) => r.task_hash),
    };
  }

  /** A recorded value by hash. */
  async getValue(valueHash: string): Promise<{ value: unknown; type: string } | undefined> {
    const row = await this.db
      .selectFrom("value")
      .select(["value", "format", "type"])
      .where("value_hash", "=", valueHash)
      .executeTakeFirst();
    return row ? { value: this.decodeStored(row.value, row.format), type: row.type } : undefined;
  }

  private decodeStored(bytes: Uint8Array, format: string): unknown {
    if (format !== VALUE_FORMAT)
      throw new Error(`Unknown value format "${format}" in the database`);
    return deserializeValue(bytes);
  }

  // ---- writes (queued) ---------------------------------------------------------------

  /** Records a task's identity and source (once per process). */
  recordTask(task: {
    hash: string;
    name: string;
    namespace: string;
    fullname: string;
    source: string;
  }): void {
    if (this.writtenTasks.has(task.hash)) return;
    this.writtenTasks.add(task.hash);
    this.queue.task.push({
      hash: task.hash,
      name: task.name,
      namespace: task.namespace,
      fullname: task.fullname,
      source: task.source,
    });
    this.scheduleFlush();
  }

  /**
   * Serializes and records a value under its hash (once per process).
   * @throws ValueTooLargeError when it is larger than `max_value_size`.
   */
  recordValue(valueHash: string, value: unknown, where?: string): void {
    if (this.writtenValues.has(valueHash)) return;
    const bytes = serializeValue(value, where);
    if (bytes.length > this.maxValueSize) {
      throw new ValueTooLargeError(
        `${where ?? "a value"} is ${bytes.length} bytes, larger than max_value_size ` +
          `(${this.maxValueSize} bytes, [backend] in redun.ini)`,
      );
    }
    this.writtenValues.add(valueHash);
    this.queue.value.push({
      value_hash: valueHash,
      type: valueTypeName(value),
      format: VALUE_FORMAT,
      value: bytes,
    });
    this.scheduleFlush();
  }

  /** Records rows for one finished call, in one batch. */
  recordCall(rows: {
    evaluation?: Database["evaluation"];
    callNode: Database["call_node"];
    edges: Rows<"call_edge">;
    subtreeTasks: Rows<"call_subtree_task">;
    arguments: Rows<"argument">;
    argumentResults: Rows<"argument_result">;
  }): void {
    if (rows.evaluation) this.queue.evaluation.push(rows.evaluation);
    this.queue.call_node.push(rows.callNode);
    this.queue.call_edge.push(...rows.edges);
    this.queue.call_subtree_task.push(...rows.subtreeTasks);
    this.queue.argument.push(...rows.arguments);
    this.queue.argument_result.push(...rows.argumentResults);
    this.scheduleFlush();
  }

  /** Records the single reduction of an eval hash (cacheable as soon as it is known). */
  recordEvaluation(row: Database["evaluation"]): void {
    this.queue.evaluation.push(row);
    this.scheduleFlush();
  }

  /** Inserts or updates a job row. */
  recordJob(row: JobTable): void {
    this.jobs.set(row.id, { ...row });
    this.scheduleFlush();
  }

  /** Inserts or updates an execution row. */
  recordExecution(row: Database["execution"]): void {
    this.queue.execution.push(row);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush().catch(() => {});
    }, FLUSH_DELAY_MS);
    this.flushTimer.unref?.();
  }

  /** Writes everything queued so far; resolves when it is committed. */
  flush(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    const queue = this.queue;
    const jobs = [...this.jobs.values()];
    this.queue = emptyQueue();
    this.jobs.clear();
    // Flushes run one after another so that rows are committed in the order they were made.
    this.flushing = this.flushing
      .then(() => this.write(queue, jobs))
      .catch((error) => {
        this.flushError ??= error;
      });
    return this.flushing.then(() => {
      if (this.flushError) {
        const error = this.flushError;
        this.flushError = undefined;
        throw error;
      }
    });
  }

  private async write(queue: Queue, jobs: JobTable[]): Promise<void> {
    if (jobs.length === 0 && Object.values(queue).every((rows) => rows.length === 0)) return;
    await this.db.transaction().execute(async (trx) => {
      for (const table of INSERT_ONCE_TABLES) {
        await insertIgnoring(trx, table, queue[table] as any[]);
      }
      for (const rows of chunks(queue.execution)) {
        await trx
          .insertInto("execution")
          .values(rows)
          .onConflict((oc) =>
            oc.column("id").doUpdateSet((eb) => ({
              job_id: eb.ref("excluded.job_id"),
              updated_time: eb.ref("excluded.updated_time"),
            })),
          )
          .execute();
      }
      for (const rows of chunks(jobs)) {
        await trx
          .insertInto("job")
          .values(rows)
          .onConflict((oc) =>
            oc.column("id").doUpdateSet((eb) => ({
              end_time: eb.ref("excluded.end_time"),
              cached: eb.ref("excluded.cached"),
              call_hash: eb.ref("excluded.call_hash"),
              status: eb.ref("excluded.status"),
            })),
          )
          .execute();
      }
    });
  }

  /** Flushes and closes the database. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.handle.close();
    }
  }
}

/** Tables whose rows are content-addressed: a second insert of the same row is a no-op. */
const INSERT_ONCE_TABLES = [
  "task",
  "value",
  "evaluation",
  "call_node",
  "call_edge",
  "call_subtree_task",
  "argument",
  "argument_result",
] as const;

type Queue = { [T in (typeof INSERT_ONCE_TABLES)[number] | "execution"]: Rows<T> };

function emptyQueue(): Queue {
  return {
    task: [],
    value: [],
    evaluation: [],
    call_node: [],
    call_edge: [],
    call_subtree_task: [],
    argument: [],
    argument_result: [],
    execution: [],
  };
}

function* chunks<T>(rows: T[]): Generator<T[]> {
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) yield rows.slice(i, i + CHUNK_ROWS);
}

async function insertIgnoring(
  trx: Transaction<Database>,
  table: keyof Database,
  rows: any[],
): Promise<void> {
  for (const chunk of chunks(rows)) {
    await trx
      .insertInto(table)
      .values(chunk)
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

/** A short type name recorded with each value. */
export function valueTypeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value !== "object") return typeof value;
  const handler = handlerForValue(value);
  if (handler) return handler.name;
  const ctor = Object.getPrototypeOf(value)?.constructor;
  return ctor && ctor !== Object ? ctor.name : "object";
}
