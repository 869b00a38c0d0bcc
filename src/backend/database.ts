/**
 * Opening a provenance database. SQLite runs in WAL mode with a busy timeout so that
 * several schedulers can share one file; PostgreSQL (`postgresql://`) is opened by
 * `./postgres.ts`, imported only when such a URI is used, so the engine never loads the
 * `pg` driver (or the AWS SDK) unless it needs it. Other dialects register an opener.
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

/**
 * How to log in to a database server. Credentials never come from the URI: they are read
 * from the environment variables named here, or from an AWS Secrets Manager secret.
 */
export interface ConnectionOptions {
  /** Environment variable with the user name (default `REDUN_DB_USERNAME`). */
  usernameEnv?: string;
  /** Environment variable with the password (default `REDUN_DB_PASSWORD`). */
  passwordEnv?: string;
  /**
   * An AWS Secrets Manager secret with the fields `engine`, `username`, `password`,
   * `host`, `port` and `dbname`. It takes precedence over the URI and the variables.
   */
  awsSecretName?: string;
  /** Where the variables are read (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Most connections a PostgreSQL pool opens (default 10). */
  maxConnections?: number;
}

/** A database URI or secret that cannot be used to connect (or a login that fails). */
export class DatabaseConnectionError extends Error {
  override name = "DatabaseConnectionError";
}

/** Opens a database for a non-SQLite URI (PostgreSQL registers itself here). */
export type DatabaseOpener = (uri: string, options: ConnectionOptions) => Promise<DatabaseHandle>;

const openers = new Map<string, DatabaseOpener>();

/** Registers how to open databases whose URI starts with `scheme://`. */
export function registerDatabaseOpener(scheme: string, opener: DatabaseOpener): void {
  openers.set(scheme, opener);
}

const writersInProcess = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` after every earlier `exclusiveInProcess` call on the same SQLite file in this
 * process has finished. Two connections of one process must not both hold a write
 * transaction on one file: better-sqlite3 waits for the lock synchronously, blocking the
 * thread, so the first transaction could never finish. Other dialects run `fn` at once.
 */
export function exclusiveInProcess<T>(handle: DatabaseHandle, fn: () => Promise<T>): Promise<T> {
  if (handle.dialect !== "sqlite" || handle.location === ":memory:") return fn();
  const previous = writersInProcess.get(handle.location) ?? Promise.resolve();
  const run = previous.catch(() => {}).then(fn);
  const settled = run.catch(() => {});
  writersInProcess.set(handle.location, settled);
  void settled.then(() => {
    if (writersInProcess.get(handle.location) === settled) writersInProcess.delete(handle.location);
  });
  return run;
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

/** The dialect a URI (and connection options) name, without opening anything. */
export function dialectOf(uri: string, connection: ConnectionOptions = {}): Dialect {
  if (connection.awsSecretName) return "postgresql";
  return /^postgres(ql)?:\/\//.test(uri) ? "postgresql" : "sqlite";
}

/**
 * Opens the database a URI names: `sqlite:///relative/or/absolute.db` (path already
 * resolved by the configuration), `sqlite:///:memory:`, `postgresql://host:port/db`, or a
 * registered scheme. With `connection.awsSecretName` the secret names the database.
 */
export async function openDatabase(
  uri: string,
  options: { sqlitePath?: string; connection?: ConnectionOptions } = {},
): Promise<DatabaseHandle> {
  const connection = options.connection ?? {};
  let scheme = uri.split("://", 1)[0]!;
  if (connection.awsSecretName || scheme === "postgres") scheme = "postgresql";
  if (scheme === "sqlite") {
    return openSqlite(options.sqlitePath ?? uri.slice("sqlite:///".length));
  }
  if (scheme === "postgresql" && !openers.has(scheme)) await import("./postgres.ts");
  const opener = openers.get(scheme);
  if (!opener)
    throw new Error(
      `Unsupported database URI scheme "${scheme}://" (expected sqlite or postgresql)`,
    );
  return opener(uri, connection);
}
