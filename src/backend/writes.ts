/**
 * Writing provenance rows in one transaction, the same SQL for SQLite and PostgreSQL.
 *
 * Content-addressed rows (tasks, values, calls, arguments, …) are inserted with
 * `ON CONFLICT DO NOTHING`, so writing the same row twice, from one scheduler or two, is a
 * no-op. Jobs and executions are upserts that only move forward (a finished job is never
 * overwritten by an unfinished copy). Rows are deduplicated and sorted by key so that two
 * writers take their row locks in the same order; a transaction that still fails with a
 * transient error (deadlock, serialization failure, dropped connection, busy SQLite) is
 * retried as a whole, which is safe because every statement is idempotent.
 */
import type { Kysely, Transaction } from "kysely";
import { releaseClaimsIn, type ClaimRelease } from "./call-claims.ts";
import { withRetry, type RetryPolicy } from "./retry.ts";
import type { Database } from "./schema.ts";

/** Tables the backend writes, in the order it writes them. */
export const WRITE_TABLES = [
  "task",
  "value",
  "subvalue",
  "file",
  "evaluation",
  "call_node",
  "call_edge",
  "call_subtree_task",
  "argument",
  "argument_result",
  "tag",
  "execution",
  "job",
] as const;

export type WriteTable = (typeof WRITE_TABLES)[number];

/** Rows to write, by table. */
export type RowBatch = { [T in WriteTable]: Database[T][] };

/** The primary key columns of each table (rows are deduplicated and sorted by them). */
export const TABLE_KEYS: { [T in WriteTable]: (keyof Database[T] & string)[] } = {
  task: ["hash"],
  value: ["value_hash"],
  subvalue: ["value_hash", "parent_value_hash"],
  file: ["value_hash"],
  evaluation: ["eval_hash"],
  call_node: ["call_hash"],
  call_edge: ["parent_id", "child_id", "call_order"],
  call_subtree_task: ["call_hash", "task_hash"],
  argument: ["arg_hash"],
  argument_result: ["arg_hash", "result_call_hash"],
  tag: ["tag_hash"],
  execution: ["id"],
  job: ["id"],
};

/** Every column of each table, in schema order (what an import accepts). */
export const TABLE_COLUMNS: { [T in WriteTable]: (keyof Database[T] & string)[] } = {
  task: ["hash", "name", "namespace", "fullname", "source"],
  value: ["value_hash", "type", "format", "value"],
  subvalue: ["value_hash", "parent_value_hash"],
  file: ["value_hash", "path"],
  evaluation: ["eval_hash", "task_hash", "args_hash", "value_hash"],
  call_node: [
    "call_hash",
    "task_name",
    "task_hash",
    "args_hash",
    "eval_hash",
    "value_hash",
    "timestamp",
  ],
  call_edge: ["parent_id", "child_id", "call_order"],
  call_subtree_task: ["call_hash", "task_hash"],
  argument: ["arg_hash", "call_hash", "value_hash", "arg_position", "arg_key"],
  argument_result: ["arg_hash", "result_call_hash"],
  tag: ["tag_hash", "entity_type", "entity_id", "key", "value", "timestamp"],
  execution: ["id", "args", "job_id", "updated_time"],
  job: [
    "id",
    "start_time",
    "end_time",
    "task_hash",
    "cached",
    "call_hash",
    "parent_id",
    "execution_id",
    "status",
  ],
};

/** An empty batch. */
export function emptyBatch(): RowBatch {
  return Object.fromEntries(WRITE_TABLES.map((t) => [t, []])) as unknown as RowBatch;
}

/**
 * Appends the rows of `newer` to `batch` (the job rows too): where a key repeats, the
 * newer row, written last, wins (see {@link uniqueSorted}).
 */
export function appendBatch(batch: RowBatch, newer: RowBatch): void {
  for (const table of WRITE_TABLES) {
    const to = batch[table] as unknown[];
    for (const row of newer[table] as unknown[]) to.push(row);
  }
}

/** Whether a batch has no rows. */
export function batchIsEmpty(batch: RowBatch): boolean {
  return WRITE_TABLES.every((t) => batch[t].length === 0);
}

/** How many rows a batch has, in every table. */
export function batchRows(batch: RowBatch): number {
  let rows = 0;
  for (const table of WRITE_TABLES) rows += batch[table].length;
  return rows;
}

/**
 * How conflicts resolve. `record` (a scheduler's own rows): the newest evaluation of an
 * eval hash wins (a task rerun because its cached value became invalid replaces it).
 * `import` (rows from another repository): rows already here are kept.
 */
export type WriteMode = "record" | "import";

const CHUNK_ROWS = 200;

function keyOf(table: WriteTable, row: Record<string, unknown>): string {
  const keys = TABLE_KEYS[table];
  if (keys.length === 1) return String(row[keys[0]!]);
  let key = String(row[keys[0]!]);
  for (let i = 1; i < keys.length; i++) key += "\u0000" + String(row[keys[i]!]);
  return key;
}

/** The rows of a table without duplicate keys (the last copy wins), sorted by key. */
export function uniqueSorted<T extends WriteTable>(table: T, rows: Database[T][]): Database[T][] {
  if (rows.length === 0) return rows;
  const byKey = new Map<string, Database[T]>();
  for (const row of rows) byKey.set(keyOf(table, row as unknown as Record<string, unknown>), row);
  // The default sort orders strings as `<` does, without a comparator called per pair.
  return [...byKey.keys()].sort().map((key) => byKey.get(key)!);
}

function* chunks<T>(rows: T[]): Generator<T[]> {
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) yield rows.slice(i, i + CHUNK_ROWS);
}

/**
 * The INSERT of some rows into a table, with its conflict rule (the one place these rules
 * live: the SQLite prepared statements of `./sqlite-writes.ts` are compiled from it too).
 */
export function insertQuery(
  db: Kysely<Database> | Transaction<Database>,
  table: WriteTable,
  rows: any[],
  mode: WriteMode,
) {
  if (table === "job") {
    return db
      .insertInto("job")
      .values(rows)
      .onConflict((oc) =>
        oc
          .column("id")
          .doUpdateSet((eb) => ({
            end_time: eb.ref("excluded.end_time"),
            cached: eb.ref("excluded.cached"),
            call_hash: eb.ref("excluded.call_hash"),
            status: eb.ref("excluded.status"),
          }))
          .where("job.end_time", "is", null)
          .where((eb) =>
            eb.or([
              eb("excluded.end_time", "is not", null),
              eb("excluded.status", "!=", eb.ref("job.status")),
            ]),
          ),
      );
  }
  if (table === "execution") {
    return db
      .insertInto("execution")
      .values(rows)
      .onConflict((oc) =>
        oc
          .column("id")
          .doUpdateSet((eb) => ({
            job_id: eb.fn.coalesce(eb.ref("excluded.job_id"), eb.ref("execution.job_id")),
            updated_time: eb.ref("excluded.updated_time"),
          }))
          .where((eb) =>
            eb.or([
              eb("excluded.updated_time", ">", eb.ref("execution.updated_time")),
              eb.and([eb("execution.job_id", "is", null), eb("excluded.job_id", "is not", null)]),
            ]),
          ),
      );
  }
  if (table === "evaluation" && mode === "record") {
    return db
      .insertInto("evaluation")
      .values(rows)
      .onConflict((oc) =>
        oc
          .column("eval_hash")
          .doUpdateSet((eb) => ({ value_hash: eb.ref("excluded.value_hash") }))
          .where("evaluation.value_hash", "!=", (eb) => eb.ref("excluded.value_hash")),
      );
  }
  return db
    .insertInto(table)
    .values(rows)
    .onConflict((oc) => oc.doNothing());
}

async function writeTable(
  trx: Transaction<Database>,
  table: WriteTable,
  rows: any[],
  mode: WriteMode,
): Promise<number> {
  let changed = 0;
  for (const chunk of chunks(rows)) {
    const result = await insertQuery(trx, table, chunk, mode).executeTakeFirst();
    changed += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  return changed;
}

/**
 * The tables of a batch that have rows, in write order, each deduplicated and sorted by key
 * (what every write path writes, in this order, so that the rows and their rowids match).
 */
export function batchTables(batch: RowBatch): (readonly [WriteTable, any[]])[] {
  return WRITE_TABLES.map((t) => [t, uniqueSorted(t, batch[t] as any[])] as const).filter(
    ([, rows]) => rows.length > 0,
  );
}

/**
 * Writes a batch in one transaction, retried as a whole on transient errors.
 * @param releases - call claims released in the same transaction, once the rows are in.
 * @returns how many rows were inserted or updated (0 when everything was already there).
 */
export async function writeBatch(
  db: Kysely<Database>,
  batch: RowBatch,
  mode: WriteMode = "record",
  retry: Partial<RetryPolicy> = {},
  releases: readonly ClaimRelease[] = [],
): Promise<number> {
  const tables = batchTables(batch);
  if (tables.length === 0 && releases.length === 0) return 0;
  return withRetry(
    () =>
      db.transaction().execute(async (trx) => {
        let changed = 0;
        for (const [table, rows] of tables) changed += await writeTable(trx, table, rows, mode);
        await releaseClaimsIn(trx, releases);
        return changed;
      }),
    retry,
  );
}
