/**
 * The `[executors.NAME]` and `[federated_tasks.NAME]` sections of one `redun.ini` file, read
 * into their typed forms (a configuration reads its own file's and those its
 * `federated_configs` import).
 */
import { ConfigError } from "./config-error.ts";
import type { IniData } from "./ini.ts";
import { executorSchema, executorSchemaPending, markInheritedOptions } from "./executor-options.ts";

/** An `[executors.NAME]` section. */
export interface ExecutorConfig {
  type: string;
  /** The section's options other than `type`, as written (interpolated strings). */
  options: Record<string, string>;
  /** The file that defined it (for messages). */
  source: string;
  /** The configuration directory of that file (for relative paths). */
  configDir: string;
}

/** A `[federated_tasks.NAME]` section. */
export interface FederatedTaskConfig {
  namespace: string;
  taskName: string;
  loadModule: string;
  /** The executor that has the execution context for this task. */
  executor: string;
  /** As written: absolute, or relative to the executor's entrypoint. */
  configDir: string;
  taskSignature?: string;
  description?: string;
  /** Other keys: passed on to the federated subrun as task options / configuration. */
  extra: Record<string, string>;
  /** The file that defined it (for messages). */
  source: string;
}

const FEDERATED_TASK_REQUIRED = [
  "namespace",
  "task_name",
  "load_module",
  "executor",
  "config_dir",
] as const;

export const EXECUTORS_PREFIX = "executors.";
export const FEDERATED_PREFIX = "federated_tasks.";

/** Options a section sets itself (not inherited from DEFAULT). */
export function ownOptions(ini: IniData, section: string): Record<string, string> {
  const values = ini.values[section] ?? {};
  return Object.fromEntries((ini.ownKeys[section] ?? []).map((key) => [key, values[key]!]));
}

/** The `[executors.NAME]` sections of one file. */
export function readExecutors(ini: IniData, file: string, configDir: string) {
  const executors: Record<string, ExecutorConfig> = {};
  for (const section of ini.sections) {
    if (section.startsWith("executor.")) {
      const name = section.slice("executor.".length);
      throw new ConfigError(
        `[${section}] in ${file}: executor sections are named [executors.NAME] (with an s); rename it [executors.${name}]`,
      );
    }
    if (!section.startsWith(EXECUTORS_PREFIX)) continue;
    const name = section.slice(EXECUTORS_PREFIX.length);
    const { type, ...options } = ownOptions(ini, section);
    if (!type) {
      throw new ConfigError(
        `[${section}] in ${file}: the option "type" is required (local, alias, docker, aws_batch, aws_glue, k8s, …)`,
      );
    }
    // DEFAULT options reach an executor when its type declares them (configparser
    // inheritance, without warnings about DEFAULT keys meant for other sections). A built-in
    // type not loaded yet gets them all, marked, and its parser keeps those it declares.
    const schema = executorSchema(type) ?? {};
    const pending = executorSchemaPending(type);
    const inherited = new Set<string>();
    for (const [key, value] of Object.entries(ini.values[section]!)) {
      if (!(key in options) && key !== "type" && (pending || key in schema)) {
        options[key] = value;
        if (pending) inherited.add(key);
      }
    }
    markInheritedOptions(options, inherited);
    executors[name] = { type, options, source: file, configDir };
  }
  return executors;
}

/** The `[federated_tasks.NAME]` sections of one file. */
export function readFederatedTasks(ini: IniData, file: string) {
  const tasks: Record<string, FederatedTaskConfig> = {};
  for (const section of ini.sections) {
    if (!section.startsWith(FEDERATED_PREFIX)) continue;
    const name = section.slice(FEDERATED_PREFIX.length);
    const options = ownOptions(ini, section);
    for (const key of FEDERATED_TASK_REQUIRED) {
      if (!options[key]) {
        throw new ConfigError(`[${section}] in ${file}: the option "${key}" is required`);
      }
    }
    const {
      namespace,
      task_name,
      load_module,
      executor,
      config_dir,
      task_signature,
      description,
      ...extra
    } = options;
    tasks[name] = {
      namespace: namespace!,
      taskName: task_name!,
      loadModule: load_module!,
      executor: executor!,
      configDir: config_dir!,
      taskSignature: task_signature,
      description,
      extra,
      source: file,
    };
  }
  return tasks;
}
