/**
 * The SQLite write path: prepared statements kept for the life of the connection, one
 * synchronous transaction per flush. Each statement's SQL is compiled from the same Kysely
 * query as the generic path (`insertQuery` in `./writes.ts`), for one row, so both paths
 * share their conflict rules. The compiled SQL ships in sqlite-insert-sql.ts (compiling it
 * took a few milliseconds of every start; a test checks that it is current). Rows go in the
 * same order (deduplicated, sorted by key), so both paths leave the same rows, rowids
 * included.
 */
import type { Database as SQLiteConnection, Statement } from "better-sqlite3";
import type { Kysely } from "kysely";
import { releaseClaimsSqlite, type ClaimRelease } from "./call-claims.ts";
import { withRetry, type RetryPolicy } from "./retry.ts";
import type { Database } from "./schema.ts";
import { SQLITE_INSERT_SQL } from "./sqlite-insert-sql.ts";
import {
  TABLE_COLUMNS,
  WRITE_TABLES,
  batchTables,
  insertQuery,
  type RowBatch,
  type WriteMode,
  type WriteTable,
} from "./writes.ts";

/** Pages the write connection keeps in memory (KiB, as `PRAGMA cache_size` takes it negated). */
const CACHE_KIB = 64 * 1024;

/** Only evaluation rows resolve conflicts differently in the two modes. */
function statementKey(table: WriteTable, mode: WriteMode): string {
  return table === "evaluation" ? `${table}/${mode}` : table;
}

/** The SQL of a one-row insert into `table`, compiled from its Kysely query (`insertQuery`). */
function compileInsert(db: Kysely<Database>, table: WriteTable, mode: WriteMode): string {
  const columns = TABLE_COLUMNS[table];
  const row = Object.fromEntries(columns.map((c) => [c, null]));
  const compiled = insertQuery(db, table, [row], mode).compile();
  if (compiled.parameters.length !== columns.length) {
    throw new Error(
      `internal error: the insert into ${table} has ${compiled.parameters.length} parameters, ` +
        `expected ${columns.length}`,
    );
  }
  return compiled.sql;
}

/**
 * Every statement's SQL, compiled now (what scripts/gen-sqlite-sql.ts writes into
 * sqlite-insert-sql.ts, and what the tests compare it with).
 */
export function compileSqliteInserts(db: Kysely<Database>): Record<string, string> {
  const statements: Record<string, string> = {};
  for (const table of WRITE_TABLES) {
    for (const mode of ["record", "import"] as const) {
      statements[statementKey(table, mode)] = compileInsert(db, table, mode);
    }
  }
  return statements;
}

interface Insert {
  statement: Statement;
  columns: readonly string[];
}

/** Writes row batches to one SQLite connection with statements prepared once. */
export class SqliteWriter {
  private readonly inserts = new Map<string, Insert>();

  /**
   * @param sqlite the connection under `db` (writes must go through the same connection:
   *   two connections of one process would lock each other out).
   * @param db the Kysely instance, asked for only to compile a statement whose SQL does not
   *   ship compiled (sqlite-insert-sql.ts), so that writing need not load Kysely.
   */
  constructor(
    private readonly sqlite: SQLiteConnection,
    private readonly db: () => Kysely<Database>,
  ) {
    // The default 2 MB cache holds a fraction of the indexes a large run writes to: each
    // insert into a random-keyed index would read its page back from the OS.
    sqlite.pragma(`cache_size = -${CACHE_KIB}`);
  }

  private insert(table: WriteTable, mode: WriteMode): Insert {
    const key = statementKey(table, mode);
    let insert = this.inserts.get(key);
    if (!insert) {
      const sql = SQLITE_INSERT_SQL[key] ?? compileInsert(this.db(), table, mode);
      insert = { statement: this.sqlite.prepare(sql), columns: TABLE_COLUMNS[table] };
      this.inserts.set(key, insert);
    }
    return insert;
  }

  /**
   * Writes a batch in one transaction (synchronously: better-sqlite3 blocks until done).
   * @param releases - call claims released in the same transaction, once the rows are in.
   * @returns how many rows were inserted or updated.
   */
  writeNow(batch: RowBatch, mode: WriteMode, releases: readonly ClaimRelease[] = []): number {
    const tables = batchTables(batch);
    if (tables.length === 0 && releases.length === 0) return 0;
    const inserts = tables.map(([table, rows]) => [this.insert(table, mode), rows] as const);
    const write = this.sqlite.transaction(() => {
      let changed = 0;
      const params: unknown[] = [];
      for (const [{ statement, columns }, rows] of inserts) {
        params.length = columns.length;
        for (const row of rows) {
          for (let i = 0; i < columns.length; i++) params[i] = row[columns[i]!] ?? null;
          changed += statement.run(params).changes;
        }
      }
      releaseClaimsSqlite(this.sqlite, releases);
      return changed;
    });
    // IMMEDIATE takes the write lock first (waiting up to the busy timeout), so another
    // process's commit cannot invalidate this transaction's snapshot halfway.
    return write.immediate();
  }

  /** Writes a batch in one transaction, retried as a whole on transient errors. */
  write(
    batch: RowBatch,
    mode: WriteMode,
    retry: Partial<RetryPolicy> = {},
    releases: readonly ClaimRelease[] = [],
  ): Promise<number> {
    return withRetry(async () => this.writeNow(batch, mode, releases), retry);
  }
}
