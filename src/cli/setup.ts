/**
 * From configuration to a ready scheduler, for every command that runs workflows.
 */
import { loadConfig, type Config } from "../config/config.ts";
import { Scheduler } from "../scheduler/scheduler.ts";
import { warn } from "../api/warnings.ts";

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

/** A scheduler configured from `redun.ini`. */
export async function createScheduler(config: Config, _global: GlobalOptions): Promise<Scheduler> {
  const backend = config.backend;
  return new Scheduler({
    backendOptions: {
      dbUri: backend.dbUri,
      sqlitePath: backend.sqlitePath,
      automigrate: backend.automigrate,
      maxValueSize: backend.maxValueSize,
    },
    executorConfigs: config.executors,
    limits: config.limits,
    jobStatusInterval: config.scheduler.jobStatusInterval,
    ignoreWarnings: config.scheduler.ignoreWarnings,
    configDir: config.configDir,
  });
}
