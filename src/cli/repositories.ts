/**
 * Opening provenance repositories from the command line: the configured one, or another
 * named by a configuration directory or a database URI (`redun push`/`pull`).
 */
import fs from "node:fs";
import path from "node:path";
import { Backend, type BackendOptions } from "../backend/backend.ts";
import { openDatabase } from "../backend/database.ts";
import { backendOptionsFromConfig } from "../backend/from-config.ts";
import { schemaVersion } from "../backend/migrate.ts";
import { Config, CONFIG_DIR_NAME, CONFIG_FILE_NAME } from "../config/config.ts";
import { UsageError } from "./error-report.ts";
import { loadCliConfig, type GlobalOptions } from "./global.ts";

/** How a command opens the repository. */
export interface OpenRepositoryOptions {
  /**
   * The command only reads (`log`, `tag list`, `export`): no `.redun/` or database file is
   * created, nothing is migrated, and a SQLite file the user cannot write is read as it is.
   * A repository whose database does not exist yet (or is empty) reads as an empty one.
   */
  readOnly?: boolean;
}

/**
 * Opens the configured repository, runs `fn`, and closes it. A SQLite database the user
 * cannot write is opened read-only even when `readOnly` is not asked for, so that reading
 * someone else's repository works (a write then fails naming the database).
 */
export async function withBackend<T>(
  global: GlobalOptions,
  fn: (backend: Backend) => Promise<T>,
  options: OpenRepositoryOptions = {},
): Promise<T> {
  const config = loadCliConfig(global, options);
  const backend = await openBackend(backendOptionsFromConfig(config.backend), options);
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

/** Opens a backend, read-only when asked or when its SQLite file cannot be written. */
export async function openBackend(
  options: BackendOptions,
  { readOnly = false }: OpenRepositoryOptions = {},
): Promise<Backend> {
  const sqlitePath = isSqlite(options) ? options.sqlitePath : undefined;
  const file = sqlitePath && sqlitePath !== ":memory:" ? sqlitePath : undefined;
  if (!readOnly && !(file && fs.existsSync(file) && !writable(file))) {
    return Backend.open(options);
  }
  const connection = { ...options.connection, readOnly: true };
  if (file && (!fs.existsSync(file) || (await emptySqlite(options, connection)))) {
    // Nothing recorded yet: an empty database in memory answers every question.
    return Backend.open({ ...options, dbUri: "sqlite:///:memory:", sqlitePath: ":memory:" });
  }
  return Backend.open({
    ...options,
    connection,
    // A SQLite file read-only cannot be migrated; a server database is as configured.
    automigrate: file ? false : options.automigrate,
  });
}

function isSqlite(options: BackendOptions): boolean {
  return !options.connection?.awsSecretName && !/^postgres(ql)?:\/\//.test(options.dbUri ?? "");
}

/** Whether this user may write a SQLite file and make its lock files beside it. */
function writable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.W_OK);
    fs.accessSync(path.dirname(file), fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether a SQLite file has no provenance tables (schema version 0). */
async function emptySqlite(
  options: BackendOptions,
  connection: BackendOptions["connection"],
): Promise<boolean> {
  const handle = await openDatabase(options.dbUri!, {
    sqlitePath: options.sqlitePath,
    connection,
  });
  try {
    return (await schemaVersion(handle)) === 0;
  } finally {
    await handle.close();
  }
}

/**
 * The backend options for a repository named on the command line: a configuration
 * directory (`path/.redun`, or a directory that has one), or a database URI
 * (`sqlite:///path.db`, relative to the working directory, or `postgresql://host/db` with
 * credentials from `REDUN_DB_USERNAME` / `REDUN_DB_PASSWORD`).
 */
export function repositoryOptions(spec: string): { options: BackendOptions; name: string } {
  if (/^sqlite:\/\//.test(spec)) {
    const file = spec.slice("sqlite:///".length);
    if (!file) throw new UsageError(`"${spec}" names no database file`);
    const sqlitePath = file === ":memory:" ? file : path.resolve(file);
    return { options: { dbUri: spec, sqlitePath, automigrate: true }, name: sqlitePath };
  }
  if (/^postgres(ql)?:\/\//.test(spec)) {
    return { options: { dbUri: spec, automigrate: false }, name: spec };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec))
    throw new UsageError(
      `"${spec}": a repository is a configuration directory or a sqlite:/// or postgresql:// URI`,
    );
  let dir = path.resolve(spec);
  if (
    !fs.existsSync(path.join(dir, CONFIG_FILE_NAME)) &&
    fs.existsSync(path.join(dir, CONFIG_DIR_NAME, CONFIG_FILE_NAME))
  )
    dir = path.join(dir, CONFIG_DIR_NAME);
  if (!fs.existsSync(path.join(dir, CONFIG_FILE_NAME)))
    throw new UsageError(
      `"${spec}" is not a repository: no ${CONFIG_FILE_NAME} there (give a configuration directory or a database URI)`,
    );
  return { options: backendOptionsFromConfig(Config.fromDir(dir).backend), name: dir };
}

/** Opens a repository named on the command line (see {@link repositoryOptions}). */
export async function openRepository(
  spec: string,
  options: { migrate?: boolean } = {},
): Promise<Backend> {
  const repo = repositoryOptions(spec);
  return Backend.open({
    ...repo.options,
    automigrate: options.migrate || repo.options.automigrate,
  });
}
