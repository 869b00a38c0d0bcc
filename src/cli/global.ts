/**
 * The options every command shares, and loading the configuration they name. Kept apart
 * from `setup.ts` so that commands that only read the database (`db`, `log`, `tag`,
 * `export`, …) start without loading the scheduler and the TypeScript compiler.
 */
import fs from "node:fs";
import path from "node:path";
import { warn } from "../api/warnings.ts";
import {
  Config,
  CONFIG_DIR_NAME,
  CONFIG_FILE_NAME,
  DEFAULT_INI,
  findConfigDir,
  loadConfig,
} from "../config/config.ts";
import { UsageError } from "./error-report.ts";

/** Options that come before the command: `redun --config DIR --setup k=v COMMAND`. */
export interface GlobalOptions {
  config?: string;
  setup?: string[];
}

/** How a command uses the configuration. */
export interface LoadCliConfigOptions {
  /**
   * The command only reads (`log`, `db info`, `export`, …): nothing is created. Without a
   * `.redun/` here or above, that is an error saying how to make one; a `.redun/` without
   * `redun.ini` reads as the default configuration.
   */
  readOnly?: boolean;
}

/** Finds (or, unless `readOnly`, creates) the configuration directory and loads `redun.ini`. */
export function loadCliConfig(global: GlobalOptions, options: LoadCliConfigOptions = {}): Config {
  const config = options.readOnly
    ? loadExistingConfig(global)
    : loadConfig({ configDir: global.config });
  for (const warning of config.warnings) warn("config", warning);
  return config;
}

function loadExistingConfig(global: GlobalOptions): Config {
  const { dir, create } = findConfigDir({ configDir: global.config });
  if (create) {
    throw new UsageError(
      `no redun repository here: there is no ${CONFIG_DIR_NAME}/ in ${process.cwd()} or above ` +
        "(`redun init` makes one; --config DIR or REDUN_CONFIG names another)",
    );
  }
  return fs.existsSync(path.join(dir, CONFIG_FILE_NAME))
    ? Config.fromDir(dir)
    : Config.fromString(DEFAULT_INI, { configDir: dir });
}
