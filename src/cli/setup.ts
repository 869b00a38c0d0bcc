/**
 * From configuration to a ready scheduler, for every command that runs workflows:
 * `[scheduler] setup_scheduler` and `redun --setup key=value` included.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parameterNames } from "../api/source.ts";
import type { Config } from "../config/config.ts";
import { ConfigError } from "../config/config-error.ts";
import { Dir, File } from "../files/file.ts";
import { Scheduler } from "../scheduler/scheduler.ts";
import { UsageError } from "./error-report.ts";
import { readTaskSignature, untypedParams } from "./signature.ts";
import { parseTaskArgs } from "./task-args.ts";

import type { GlobalOptions } from "./global.ts";

export { loadCliConfig, type GlobalOptions } from "./global.ts";

/**
 * A scheduler for the configuration: built by the `setup_scheduler` function when the
 * configuration names one, otherwise straight from the configuration.
 */
export async function createScheduler(config: Config, global: GlobalOptions): Promise<Scheduler> {
  const spec = config.scheduler.setupScheduler;
  if (!spec) {
    if (global.setup?.length)
      throw new UsageError("--setup was given, but redun.ini has no [scheduler] setup_scheduler");
    return new Scheduler({ config });
  }
  const where = `[scheduler] setup_scheduler in ${config.path}`;
  const separator = spec.lastIndexOf("::");
  if (separator <= 0)
    throw new ConfigError(
      `${where}: expected file_or_module::function_name, got ${JSON.stringify(spec)}`,
    );
  const target = spec.slice(0, separator);
  const functionName = spec.slice(separator + 2);
  const file = resolveSetupModule(target, config, where);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(
      `${where}: cannot import ${file}: ${(error as Error).message.split("\n")[0]}`,
    );
  }
  const setup = module[functionName];
  if (typeof setup !== "function")
    throw new ConfigError(`${where}: ${file} exports no function "${functionName}"`);
  const params = (
    readTaskSignature(file, { functionName, taskName: functionName }) ??
    untypedParams(parameterNames(setup))
  ).slice(1);
  const argv = (global.setup ?? []).flatMap((pair) => {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--setup expects key=value, got "${pair}"`);
    return [`--${pair.slice(0, eq)}`, pair.slice(eq + 1)];
  });
  const args = parseTaskArgs(`setup_scheduler ${functionName}`, params, argv, {
    file: (p) => new File(path.resolve(p)),
    dir: (p) => new Dir(path.resolve(p)),
  });
  const scheduler = await setup(config, ...args);
  if (!(scheduler instanceof Scheduler)) {
    throw new ConfigError(
      `${where}: ${functionName}() must return a Scheduler (got ${typeof scheduler})`,
    );
  }
  return scheduler;
}

/** A file path (relative to redun.ini's directory) or a module name (resolved from the working directory). */
function resolveSetupModule(target: string, config: Config, where: string): string {
  const looksLikeFile = /^\.{0,2}\//.test(target) || /\.(m?[jt]s|cjs|cts)$/.test(target);
  if (looksLikeFile) {
    const file = path.resolve(config.configDir, target);
    if (!fs.existsSync(file)) throw new ConfigError(`${where}: file not found: ${file}`);
    return file;
  }
  try {
    return createRequire(path.join(process.cwd(), "noop.js")).resolve(target.replace(/\./g, "/"));
  } catch {
    try {
      return createRequire(path.join(process.cwd(), "noop.js")).resolve(target);
    } catch {
      throw new ConfigError(`${where}: cannot find module "${target}" from ${process.cwd()}`);
    }
  }
}
