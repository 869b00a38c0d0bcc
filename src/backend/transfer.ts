/**
 * Moving provenance between repositories: export as JSON lines, import, and push/pull
 * (an export piped into an import). Rows are content addressed or move forward only, so
 * importing the same records twice changes nothing.
 *
 * Format: a header line `{"redun":"provenance","format":1,"schema":N}`, then one line per
 * row, `{"table":"job","row":{...}}`. Value bytes are base64 and always inline (values in
 * a value store are read out), so the receiving repository decides where to keep them.
 */
import fs from "node:fs";
import { readline } from "../values/lazy-builtins.ts";
import type { Kysely } from "kysely";
import type { Backend } from "./backend.ts";
import { VALUE_FORMAT } from "./value-rows.ts";
import { LATEST_VERSION } from "./migrations/all-migrations.ts";
import type { Database } from "./schema.ts";
import {
  emptyBatch,
  TABLE_COLUMNS,
  TABLE_KEYS,
  uniqueSorted,
  WRITE_TABLES,
  type RowBatch,
  type WriteTable,
} from "./writes.ts";
import { RedunError } from "../values/errors.ts";
import { registerErrorClass } from "../values/serialize.ts";

/** The first line of an export. */
export interface ExportHeader {
  redun: "provenance";
  format: 1;
  /** The schema version of the exporting library. */
  schema: number;
}

/** One row of one table. */
export interface ExportRow {
  table: WriteTable;
  row: Record<string, unknown>;
}

/** What to export. */
export interface ExportOptions {
  /** Only these executions and everything they reference (default: everything). */
  executionIds?: readonly string[];
}

/** A malformed export. */
export class ImportFormatError extends RedunError {
  override name = "ImportFormatError";
  override get code() {
    return "REDUN_IMPORT_FORMAT" as const;
  }
}
registerErrorClass(ImportFormatError);

const PAGE = 500;

async function whereIn<T extends WriteTable>(
  db: Kysely<Database>,
  table: T,
  column: string,
  values: Iterable<string>,
): Promise<Database[T][]> {
  const list = [...new Set(values)].sort();
  const rows: Database[T][] = [];
  for (let i = 0; i < list.length; i += PAGE) {
    const chunk = list.slice(i, i + PAGE);
    rows.push(
      ...((await (db as Kysely<any>)
        .selectFrom(table)
        .selectAll()
        .where(column, "in", chunk)
        .execute()) as Database[T][]),
    );
  }
  return uniqueSorted(table, rows);
}

/** The rows of the given executions and of everything they reference. */
async function executionClosure(
  db: Kysely<Database>,
  executionIds: readonly string[],
): Promise<Partial<RowBatch>> {
  const execution = await whereIn(db, "execution", "id", executionIds);
  const found = new Set(execution.map((e) => e.id));
  const missing = executionIds.filter((id) => !found.has(id));
  if (missing.length) throw new Error(`no execution has the id ${missing.join(", ")}`);
  const job = await whereIn(db, "job", "execution_id", executionIds);
  const callHashes = new Set(job.flatMap((j) => (j.call_hash ? [j.call_hash] : [])));
  // Calls beneath cached calls belong to earlier executions: follow the call graph down.
  const callEdge: Database["call_edge"][] = [];
  let frontier = [...callHashes];
  while (frontier.length) {
    const edges = await whereIn(db, "call_edge", "parent_id", frontier);
    callEdge.push(...edges);
    frontier = edges.map((e) => e.child_id).filter((h) => !callHashes.has(h));
    for (const h of frontier) callHashes.add(h);
  }
  const callNode = await whereIn(db, "call_node", "call_hash", callHashes);
  const callSubtreeTask = await whereIn(db, "call_subtree_task", "call_hash", callHashes);
  const argument = await whereIn(db, "argument", "call_hash", callHashes);
  const argumentResult = await whereIn(
    db,
    "argument_result",
    "arg_hash",
    argument.map((a) => a.arg_hash),
  );
  const evaluation = await whereIn(
    db,
    "evaluation",
    "eval_hash",
    callNode.map((c) => c.eval_hash),
  );
  const task = await whereIn(db, "task", "hash", [
    ...job.map((j) => j.task_hash),
    ...callNode.map((c) => c.task_hash),
    ...evaluation.map((e) => e.task_hash),
    ...callSubtreeTask.map((s) => s.task_hash),
  ]);
  const valueHashes = new Set([
    ...callNode.map((c) => c.value_hash),
    ...argument.map((a) => a.value_hash),
    ...evaluation.map((e) => e.value_hash),
  ]);
  const subvalue = await whereIn(db, "subvalue", "parent_value_hash", valueHashes);
  for (const s of subvalue) valueHashes.add(s.value_hash);
  const file = await whereIn(db, "file", "value_hash", valueHashes);
  const value = [...valueHashes].sort().map((value_hash) => ({ value_hash }) as any);
  const tag = await whereIn(db, "tag", "entity_id", [
    ...executionIds,
    ...job.map((j) => j.id),
    ...callHashes,
    ...valueHashes,
  ]);
  return {
    task,
    value,
    subvalue,
    file,
    evaluation,
    call_node: callNode,
    call_edge: uniqueSorted("call_edge", callEdge),
    call_subtree_task: callSubtreeTask,
    argument,
    argument_result: argumentResult,
    tag,
    execution,
    job,
  };
}

function encodeRow(table: WriteTable, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const column of TABLE_COLUMNS[table]) {
    const v = row[column];
    out[column] = v instanceof Uint8Array ? Buffer.from(v).toString("base64") : (v ?? null);
  }
  return out;
}

/** Value rows with their bytes inline, for a page of value hashes. */
async function valueRows(source: Backend, hashes: string[]): Promise<ExportRow[]> {
  const rows = await source.db
    .selectFrom("value")
    .selectAll()
    .where("value_hash", "in", hashes)
    .orderBy("value_hash")
    .execute();
  const out: ExportRow[] = [];
  for (const row of rows) {
    const bytes = await source.valueBytes(row);
    out.push({
      table: "value",
      row: encodeRow("value", { ...row, format: VALUE_FORMAT, value: bytes }),
    });
  }
  return out;
}

/**
 * The rows of a repository (or of some executions and what they reference), table by
 * table in key order.
 */
export async function* exportRows(
  source: Backend,
  options: ExportOptions = {},
): AsyncGenerator<ExportRow> {
  const db = source.db;
  if (options.executionIds) {
    const closure = await executionClosure(db, options.executionIds);
    for (const table of WRITE_TABLES) {
      const rows = (closure[table] ?? []) as unknown as Record<string, unknown>[];
      if (table === "value") {
        const hashes = rows.map((r) => r.value_hash as string);
        for (let i = 0; i < hashes.length; i += PAGE)
          yield* await valueRows(source, hashes.slice(i, i + PAGE));
      } else {
        for (const row of rows) yield { table, row: encodeRow(table, row) };
      }
    }
    return;
  }
  for (const table of WRITE_TABLES) {
    const keys = TABLE_KEYS[table] as string[];
    for (let offset = 0; ; offset += PAGE) {
      let query = (db as Kysely<any>).selectFrom(table).selectAll();
      for (const key of keys) query = query.orderBy(key);
      const rows = (await query.limit(PAGE).offset(offset).execute()) as Record<string, unknown>[];
      if (table === "value") {
        yield* await valueRows(
          source,
          rows.map((r) => r.value_hash as string),
        );
      } else {
        for (const row of rows) yield { table, row: encodeRow(table, row) };
      }
      if (rows.length < PAGE) break;
    }
  }
}

/** The header line of an export. */
export function exportHeader(): ExportHeader {
  return { redun: "provenance", format: 1, schema: LATEST_VERSION };
}

/** Writes an export as JSON lines to a stream. */
export async function writeExport(
  source: Backend,
  out: NodeJS.WritableStream,
  options: ExportOptions = {},
): Promise<number> {
  const write = (line: string) =>
    new Promise<void>((resolve, reject) => {
      const ok = out.write(line + "\n", (error) => (error ? reject(error) : undefined));
      if (ok) resolve();
      else out.once("drain", () => resolve());
    });
  await write(JSON.stringify(exportHeader()));
  let count = 0;
  for await (const record of exportRows(source, options)) {
    await write(JSON.stringify(record));
    count++;
  }
  return count;
}

const INTEGER_COLUMNS = new Set(["cached", "call_order", "arg_position"]);

/** Checks one parsed row and converts it to what the database takes. */
export function decodeRow(record: unknown, where: string): ExportRow {
  const r = record as { table?: unknown; row?: unknown };
  if (
    !r ||
    typeof r !== "object" ||
    typeof r.table !== "string" ||
    !r.row ||
    typeof r.row !== "object"
  )
    throw new ImportFormatError(`${where}: expected {"table": ..., "row": {...}}`);
  const table = r.table as WriteTable;
  if (!(WRITE_TABLES as readonly string[]).includes(table))
    throw new ImportFormatError(`${where}: unknown table "${r.table}"`);
  const input = r.row as Record<string, unknown>;
  const row: Record<string, unknown> = {};
  for (const column of TABLE_COLUMNS[table]) {
    let v = input[column] ?? null;
    if (table === "value" && column === "value") {
      if (typeof v !== "string")
        throw new ImportFormatError(`${where}: value bytes must be base64`);
      v = Buffer.from(v, "base64");
    } else if (INTEGER_COLUMNS.has(column) && v !== null) {
      v = Number(v);
    }
    row[column] = v;
  }
  for (const key of TABLE_KEYS[table] as string[]) {
    if (row[key] === null || row[key] === undefined)
      throw new ImportFormatError(`${where}: ${table} row without ${key}`);
  }
  return { table, row };
}

/** Reads an export (JSON lines) from a file, or standard input for `-`. */
export async function* readExport(file: string): AsyncGenerator<ExportRow> {
  const input = file === "-" ? process.stdin : fs.createReadStream(file);
  const lines = readline().createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new ImportFormatError(`${file}:${n}: not JSON`);
    }
    if (n === 1) {
      const header = parsed as Partial<ExportHeader>;
      if (header?.redun !== "provenance")
        throw new ImportFormatError(`${file}: not a redun provenance export (no header line)`);
      if (header.format !== 1)
        throw new ImportFormatError(`${file}: unknown export format ${header.format}`);
      continue;
    }
    yield decodeRow(parsed, `${file}:${n}`);
  }
  if (n === 0) throw new ImportFormatError(`${file}: empty, not a redun provenance export`);
}

/** What an import did. */
export interface ImportResult {
  /** Rows read. */
  rows: number;
  /** Rows that were new (or moved a job or execution forward). */
  changed: number;
}

const BATCH_ROWS = 1000;
const BATCH_BYTES = 32 * 1024 * 1024;

/** Writes rows into a repository, in transactions of up to a thousand rows. */
export async function importRows(
  target: Backend,
  rows: AsyncIterable<ExportRow> | Iterable<ExportRow>,
): Promise<ImportResult> {
  let batch = emptyBatch();
  let size = 0;
  let bytes = 0;
  const result: ImportResult = { rows: 0, changed: 0 };
  const flush = async () => {
    if (size === 0) return;
    result.changed += await target.writeImported(batch);
    batch = emptyBatch();
    size = 0;
    bytes = 0;
  };
  for await (const { table, row } of rows) {
    (batch[table] as unknown[]).push(row);
    result.rows++;
    size++;
    if (row.value instanceof Uint8Array) bytes += row.value.length;
    if (size >= BATCH_ROWS || bytes >= BATCH_BYTES) await flush();
  }
  await flush();
  return result;
}

/** Copies rows from one repository to another (push and pull). */
export async function transfer(
  source: Backend,
  target: Backend,
  options: ExportOptions = {},
): Promise<ImportResult> {
  const decoded = async function* () {
    for await (const record of exportRows(source, options)) {
      yield decodeRow(record, record.table);
    }
  };
  return importRows(target, decoded());
}
