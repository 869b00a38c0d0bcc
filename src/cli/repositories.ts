/**
 * Opening provenance repositories from the command line: the configured one, or another
 * named by a configuration directory or a database URI (`redun push`/`pull`).
 */
import fs from "node:fs";
import path from "node:path";
import { Backend, type BackendOptions } from "../backend/backend.ts";
import { backendOptionsFromConfig } from "../backend/from-config.ts";
import { Config, CONFIG_DIR_NAME, CONFIG_FILE_NAME } from "../config/config.ts";
import { UsageError } from "./error-report.ts";
import { loadCliConfig, type GlobalOptions } from "./global.ts";

/** Opens the configured repository, runs `fn`, and closes it. */
export async function withBackend<T>(
  global: GlobalOptions,
  fn: (backend: Backend) => Promise<T>,
): Promise<T> {
  const config = loadCliConfig(global);
  const backend = await Backend.open(backendOptionsFromConfig(config.backend));
  try {
    return await fn(backend);
  } finally {
    await backend.close();
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
