/**
 * Opening a provenance database. SQLite runs in WAL mode with a busy timeout so that
 * several schedulers can share one file; PostgreSQL (`postgresql://`) is opened by
 * `./postgres.ts`, imported only when such a URI is used, so the engine never loads the
 * `pg` driver (or the AWS SDK) unless it needs it. Other dialects register an opener.
 */
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import type SQLiteDatabase from "better-sqlite3";
import type { Kysely } from "kysely";
import {
  DatabaseConnectionError,
  databaseOpener,
  registerDatabaseOpener,
  type ConnectionOptions,
  type DatabaseHandle,
  type DatabaseOpener,
  type Dialect,
} from "./connection.ts";
import type { Database } from "./schema.ts";
import { kysely } from "./kysely-module.ts";

export {
  DatabaseConnectionError,
  registerDatabaseOpener,
  type ConnectionOptions,
  type DatabaseHandle,
  type DatabaseOpener,
  type Dialect,
};

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

let sqliteDriver: { Database: typeof SQLiteDatabase; addon: string | undefined } | undefined;

/**
 * The better-sqlite3 driver, loaded on first use: a native addon, not needed by commands
 * that open no database (nor by workers, which import redun but record nothing). With it,
 * the addon's file: left to itself the driver finds it through the `bindings` package,
 * which probes a dozen paths (some 30 ms of every start).
 */
function sqliteConstructor(): NonNullable<typeof sqliteDriver> {
  if (!sqliteDriver) {
    // SQLite reads `file:` URIs (for `?immutable=1`, see openSqlite) when the driver is told
    // so as its addon loads. Plain paths, the only other names redun opens, are unaffected.
    process.env.SQLITE_USE_URI ??= "1";
    const require = createRequire(import.meta.url);
    const Database = require("better-sqlite3") as typeof SQLiteDatabase;
    const root = path.dirname(require.resolve("better-sqlite3/package.json"));
    const built = path.join(root, "build", "Release", "better_sqlite3.node");
    sqliteDriver = { Database, addon: fs.existsSync(built) ? built : prebuiltAddon(root) };
  }
  return sqliteDriver;
}

/**
 * The prebuilt addon better-sqlite3 13+ ships for this platform, when the C library is
 * known. Left to itself the driver tells musl from glibc by generating a diagnostic report
 * (`process.report.getReport()`, some 2 ms of every start); `ldd` names its C library.
 * Undefined when unsure: the driver then looks itself.
 */
function prebuiltAddon(root: string): string | undefined {
  let platform: string = process.platform;
  if (platform === "linux") {
    let ldd = "";
    try {
      ldd = fs.readFileSync("/usr/bin/ldd", "utf8");
    } catch {
      return undefined;
    }
    if (ldd.includes("musl")) platform = "linuxmusl";
    else if (!/GNU C Library|GLIBC/.test(ldd)) return undefined;
  }
  const file = path.join(root, "prebuilds", `${platform}-${process.arch}.node`);
  return fs.existsSync(file) ? file : undefined;
}

/**
 * Loads the SQLite driver now: `redun run` does before TypeScript support goes in, as it
 * does redun's own modules (see src/loader/enable.mjs). @throws when it cannot load.
 */
export function loadSqliteDriver(): void {
  sqliteConstructor();
}

/**
 * Opens (creating if needed) a SQLite database file, or `:memory:`. With `readOnly`, the file
 * must exist and is only read: nothing is created, and no lock file is needed where the user
 * cannot write (see {@link openSqliteReadOnly}).
 */
export function openSqlite(file: string, options: { readOnly?: boolean } = {}): DatabaseHandle {
  if (options.readOnly && file !== ":memory:") return handleOf(openSqliteReadOnly(file), file);
  if (file !== ":memory:") {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
    } catch (error) {
      throw new DatabaseConnectionError(
        `cannot open the SQLite database ${file}: cannot make its folder ` +
          `${path.dirname(file)} (${(error as Error).message})`,
        { cause: error },
      );
    }
  }
  const { Database: SQLite, addon } = sqliteConstructor();
  let sqlite: SQLiteDatabase.Database;
  try {
    sqlite = new SQLite(file, { timeout: SQLITE_BUSY_TIMEOUT_MS, nativeBinding: addon });
  } catch (error) {
    throw sqliteOpenError(file, error);
  }
  try {
    if (file !== ":memory:") sqlite.pragma("journal_mode = WAL");
    // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the tail.
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  } catch (error) {
    sqlite.close();
    throw sqliteOpenError(file, error);
  }
  return handleOf(sqlite, file);
}

/** A SQLite handle whose Kysely instance (and Kysely itself) is made on first use. */
function handleOf(sqlite: SQLiteDatabase.Database, file: string): DatabaseHandle {
  let db: Kysely<Database> | undefined;
  return {
    get db() {
      if (!db) {
        const { Kysely, SqliteDialect } = kysely();
        db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
      }
      return db;
    },
    sqlite,
    dialect: "sqlite",
    location: file,
    close: async () => {
      if (db) await db.destroy();
      else sqlite.close();
    },
  };
}

/**
 * Opens an existing SQLite file read-only. A database in WAL mode is read through its
 * shared-memory file (`redun.db-shm`), which SQLite must create when it is missing: where
 * the user cannot (a repository of someone else's, a read-only copy), the file is opened as
 * immutable instead, which needs no lock and no file beside it; that is safe there, since no
 * writer has left a WAL of its own (its `-shm` would exist and the first way would work).
 */
function openSqliteReadOnly(file: string): SQLiteDatabase.Database {
  const { Database: SQLite, addon } = sqliteConstructor();
  if (!fs.existsSync(file)) {
    throw new DatabaseConnectionError(
      `cannot open the SQLite database ${file}: there is no such file (nothing recorded yet?)`,
    );
  }
  const open = (name: string): SQLiteDatabase.Database => {
    const sqlite = new SQLite(name, {
      readonly: true,
      fileMustExist: true,
      timeout: SQLITE_BUSY_TIMEOUT_MS,
      nativeBinding: addon,
    });
    try {
      // The first read: it fails here, not at open, when the -shm file cannot be made.
      sqlite.pragma("schema_version");
      sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    } catch (error) {
      sqlite.close();
      throw error;
    }
    return sqlite;
  };
  try {
    return open(file);
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    if (
      !["SQLITE_READONLY_DIRECTORY", "SQLITE_CANTOPEN", "SQLITE_READONLY"].includes(code) ||
      process.env.SQLITE_USE_URI !== "1"
    ) {
      throw sqliteOpenError(file, error);
    }
    try {
      const uriPath = file.replace(/[%?#]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
      return open(`file:${uriPath}?immutable=1`);
    } catch {
      throw sqliteOpenError(file, error);
    }
  }
}

/**
 * SQLite's own messages ("unable to open database file", "file is not a database") do not
 * say which file: this one does, and keeps the driver's error as its cause.
 */
function sqliteOpenError(file: string, error: unknown): DatabaseConnectionError {
  const message = (error as Error)?.message ?? String(error);
  return new DatabaseConnectionError(`cannot open the SQLite database ${file}: ${message}`, {
    cause: error,
  });
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
    return openSqlite(options.sqlitePath ?? uri.slice("sqlite:///".length), {
      readOnly: connection.readOnly,
    });
  }
  if (scheme === "postgresql" && !databaseOpener(scheme)) await import("./postgres.ts");
  const opener = databaseOpener(scheme);
  if (!opener)
    throw new Error(
      `Unsupported database URI scheme "${scheme}://" (expected sqlite or postgresql)`,
    );
  return opener(uri, connection);
}
