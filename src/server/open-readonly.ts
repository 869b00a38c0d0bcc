/**
 * Opening the configured provenance database for the web UI, read-only: the configuration
 * directory must already exist (nothing creates a `.redun/`), a SQLite file must already be
 * there, the schema is never migrated, and reads are retried only briefly, so that an
 * unreachable database becomes an error page in seconds rather than minutes of waiting.
 */
import fs from "node:fs";
import { Backend } from "../backend/backend.ts";
import { backendOptionsFromConfig } from "../backend/from-config.ts";
import { DatabaseConnectionError } from "../backend/connection.ts";
import { Config, CONFIG_DIR_NAME, CONFIG_FILE_NAME, findConfigDir } from "../config/config.ts";
import { ConfigError } from "../config/config-error.ts";

/** A database opened for reading, and where it is (for pages: never with credentials). */
export interface ReadOnlyDatabase {
  backend: Backend;
  location: string;
}

/**
 * Opens the database of the configuration in `configDir` (or found as every command finds
 * it: `REDUN_CONFIG`, the nearest `.redun/` upward).
 * @throws ConfigError when there is no configuration; DatabaseConnectionError when the
 *   database is missing or cannot be opened.
 */
export async function openReadOnly(configDir?: string): Promise<ReadOnlyDatabase> {
  const found = findConfigDir({ configDir });
  if (found.create || !fs.existsSync(`${found.dir}/${CONFIG_FILE_NAME}`)) {
    throw new ConfigError(
      `no redun configuration here: ${found.dir} has no ${CONFIG_FILE_NAME} (run it where a ` +
        `${CONFIG_DIR_NAME}/ is, or give --config DIR)`,
    );
  }
  const config = Config.fromDir(found.dir).backend;
  const options = backendOptionsFromConfig(config);
  if (config.dialect === "sqlite") {
    const file = config.sqlitePath ?? "";
    if (file === ":memory:")
      throw new DatabaseConnectionError("the configured database is in memory: nothing to show");
    if (!fs.existsSync(file))
      throw new DatabaseConnectionError(
        `no database at ${file}: nothing recorded yet (run a workflow first)`,
      );
  }
  const backend = await Backend.open({
    ...options,
    automigrate: false,
    // An error page soon, not five minutes of retrying.
    retry: { attempts: 3, maxWaitMs: 3_000 },
  });
  return { backend, location: backend.handle.location };
}
