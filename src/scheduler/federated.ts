/**
 * Federated tasks, as Python redun defines them: `federatedTask(entrypoint, ...args)` calls
 * the task a `[federated_tasks.ENTRYPOINT]` section names, without importing its code (the
 * caller may not have it), through a subrun on the section's executor that loads
 * `load_module` there. The call is reused within an execution only (CSE): the caller cannot
 * hash code it does not have.
 */
import { validateTaskOptions } from "../api/option-validation.ts";
import { toCamelCase, type CallTaskOptions } from "../api/options.ts";
import { task, type Task, type TaskExpression } from "../api/task.ts";
import type { Config, FederatedTaskConfig } from "../config/config.ts";
import { RedunError } from "../values/errors.ts";
import { registerErrorClass } from "../values/serialize.ts";
import { registerSchedulerTask } from "./scheduler-task.ts";
import { subrunCall, type RemoteCall } from "./subrun.ts";

/** An unknown federated entry point, or a section whose options cannot be used. */
export class FederatedTaskError extends RedunError {
  override name = "FederatedTaskError";
  override get code() {
    return "REDUN_FEDERATED_TASK" as const;
  }
}
registerErrorClass(FederatedTaskError);

/** The job of a federated call: its body runs in the scheduler and returns the subrun. */
export const federatedTaskTask: Task<[string, unknown[]], unknown> = task(
  { name: "federated_task", namespace: "redun", version: "1", cacheScope: "cse" },
  function federated_task(_entrypoint: string, _args: unknown[]): unknown {
    throw new Error("federated_task is evaluated by the scheduler");
  },
);

/**
 * Calls the federated task `entrypoint` (a `[federated_tasks.ENTRYPOINT]` section of the
 * configuration, or of one imported by `[scheduler] federated_configs`) with positional
 * arguments. Its code is loaded only where it runs: in a subrun on the section's
 * `executor`, which imports `load_module` and uses `config_dir` as its configuration.
 *
 * @example
 * export const main = task(function main(x: number) {
 *   return federatedTask("team_b_align", x, "hg38");
 * });
 */
export function federatedTask<R = unknown>(
  entrypoint: string,
  ...args: unknown[]
): TaskExpression<R> {
  return federatedTaskTask(entrypoint, args) as TaskExpression<R>;
}

/** The entry point's section, or a clear error listing the known ones. */
export function federatedEntry(
  config: Config | undefined,
  entrypoint: string,
): FederatedTaskConfig {
  const entries = config?.federatedTasks ?? {};
  const entry = Object.hasOwn(entries, entrypoint) ? entries[entrypoint] : undefined;
  if (!entry) {
    const known = Object.keys(entries).sort();
    throw new FederatedTaskError(
      `unknown federated entry point "${entrypoint}" (` +
        (known.length
          ? `known: ${known.join(", ")}`
          : "the configuration has no [federated_tasks.NAME] sections") +
        ")",
    );
  }
  return entry;
}

/** An option value from the ini file: JSON when it parses (numbers, booleans), else text. */
function iniValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text === "True" ? true : text === "False" ? false : text;
  }
}

/**
 * The subrun settings of a section's other keys: `new_execution`, and task options for the
 * subrun job (`memory = 2` → `{ memory: 2 }`), checked like any task options.
 */
export function federatedSubrunOptions(
  entrypoint: string,
  entry: FederatedTaskConfig,
): { newExecution: boolean; taskOptions: CallTaskOptions } {
  let newExecution = false;
  const taskOptions: Record<string, unknown> = {};
  for (const [key, text] of Object.entries(entry.extra)) {
    const value = iniValue(text);
    if (key === "new_execution") newExecution = value === true || value === "true";
    else taskOptions[toCamelCase(key)] = value;
  }
  try {
    validateTaskOptions(taskOptions, `[federated_tasks.${entrypoint}] in ${entry.source}`, true);
  } catch (error) {
    throw new FederatedTaskError((error as Error).message);
  }
  return { newExecution, taskOptions: taskOptions as CallTaskOptions };
}

registerSchedulerTask(federatedTaskTask, async (args, call) => {
  const [entrypoint, taskArgs] = args as [string, unknown[]];
  const entry = federatedEntry(call.config, entrypoint);
  const { newExecution, taskOptions } = federatedSubrunOptions(entrypoint, entry);
  const remote: RemoteCall = {
    task: `${entry.namespace}.${entry.taskName}`,
    args: taskArgs,
    entrypoint,
    loadModule: entry.loadModule,
  };
  // Evaluated beneath this job; cached within the execution only, like this call.
  return subrunCall(
    remote,
    entry.executor,
    {
      configDir: entry.configDir,
      loadModules: [entry.loadModule],
      ...(newExecution ? { newExecution } : {}),
    },
    { cacheScope: "cse", ...taskOptions },
  );
});
