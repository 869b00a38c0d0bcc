/**
 * Opening a provenance database. SQLite runs in WAL mode with a busy timeout so that
 * several schedulers can share one file; other dialects register an opener by URI scheme.
 */
import fs from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import type { Database } from "./schema.ts";

export type Dialect = "sqlite" | "postgresql";

/** An open database and how to close it. */
export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where the database is, for messages (never includes credentials). */
  location: string;
  close(): Promise<void>;
}

/** Opens a database for a non-SQLite URI (PostgreSQL registers itself here). */
export type DatabaseOpener = (
  uri: string,
  options: Record<string, unknown>,
) => Promise<DatabaseHandle>;

const openers = new Map<string, DatabaseOpener>();

/** Registers how to open databases whose URI starts with `scheme://`. */
export function registerDatabaseOpener(scheme: string, opener: DatabaseOpener): void {
  openers.set(scheme, opener);
}

/** How long a writer waits for another process's lock before failing. */
const SQLITE_BUSY_TIMEOUT_MS = 30_000;

/** Opens (creating if needed) a SQLite database file, or `:memory:`. */
export function openSqlite(file: string): DatabaseHandle {
  if (file !== ":memory:") fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SQLite(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  if (file !== ":memory:") sqlite.pragma("journal_mode = WAL");
  // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the tail.
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    db,
    dialect: "sqlite",
    location: file,
    close: () => db.destroy(),
  };
}

/**
 * Opens the database a URI names: `sqlite:///relative/or/absolute.db` (path already
 * resolved by the configuration), `sqlite:///:memory:`, or a registered scheme.
 */
export async function openDatabase(
  uri: string,
  options: { sqlitePath?: string } & Record<string, unknown> = {},
): Promise<DatabaseHandle> {
  const scheme = uri.split("://", 1)[0]!;
  if (scheme === "sqlite") {
    return openSqlite(options.sqlitePath ?? uri.slice("sqlite:///".length));
  }
  const opener =
    openers.get(scheme) ?? (scheme === "postgres" ? openers.get("postgresql") : undefined);
  if (!opener)
    throw new Error(
      `Unsupported database URI scheme "${scheme}://" (expected sqlite or postgresql)`,
    );
  return opener(uri, options);
}
