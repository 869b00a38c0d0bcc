/**
 * The options every command shares, and loading the configuration they name. Kept apart
 * from `setup.ts` so that commands that only read the database (`db`, `log`, `tag`,
 * `export`, …) start without loading the scheduler and the TypeScript compiler.
 */
import { warn } from "../api/warnings.ts";
import { loadConfig, type Config } from "../config/config.ts";

/** Options that come before the command: `redun --config DIR --setup k=v COMMAND`. */
export interface GlobalOptions {
  config?: string;
  setup?: string[];
}

/** Finds (or creates) the configuration directory and loads `redun.ini`. */
export function loadCliConfig(global: GlobalOptions): Config {
  const config = loadConfig({ configDir: global.config });
  for (const warning of config.warnings) warn("config", warning);
  return config;
}
