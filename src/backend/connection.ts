/**
 * What opening a provenance database gives and needs, shared by every dialect: the handle,
 * the connection options, the connection error, and the registry of openers for non-SQLite
 * URIs. Dialect modules (`./postgres.ts`) import this, never `./database.ts`, which loads
 * them on demand.
 */
import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";
import { RedunError } from "../values/errors.ts";
import { registerErrorClass } from "../values/serialize.ts";

/** The SQL dialects a provenance database can speak. */
export type Dialect = "sqlite" | "postgresql";

/** An open database and how to close it. */
export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where the database is, for messages (never includes credentials). */
  location: string;
  close(): Promise<void>;
  /**
   * SQLite only: the better-sqlite3 connection under `db`, for the prepared-statement write
   * path. Typed loosely so that the public types do not depend on the driver's.
   * @internal
   */
  sqlite?: object;
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
  /**
   * Open for reading only (the inspection commands: `redun log`, `db info`, …). A SQLite file
   * must then exist; it is opened read-only, nothing is created beside it, and a file the
   * user cannot write (or in a folder they cannot write) can still be read. Other dialects
   * ignore it (a server grants or refuses writes itself).
   */
  readOnly?: boolean;
}

/** A database URI or secret that cannot be used to connect (or a login that fails). */
export class DatabaseConnectionError extends RedunError {
  override name = "DatabaseConnectionError";
  override get code() {
    return "REDUN_DATABASE_CONNECTION" as const;
  }
}
registerErrorClass(DatabaseConnectionError);

/** Opens a database for a non-SQLite URI (PostgreSQL registers itself here). */
export type DatabaseOpener = (uri: string, options: ConnectionOptions) => Promise<DatabaseHandle>;

const openers = new Map<string, DatabaseOpener>();

/** Registers how to open databases whose URI starts with `scheme://`. */
export function registerDatabaseOpener(scheme: string, opener: DatabaseOpener): void {
  openers.set(scheme, opener);
}

/** The opener registered for a scheme, if any. */
export function databaseOpener(scheme: string): DatabaseOpener | undefined {
  return openers.get(scheme);
}
