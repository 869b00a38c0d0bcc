/**
 * Running a task function where the job runs (scheduler thread, worker, container): the
 * one place that applies registered types' pre/post-processing around the call, and runs
 * the command of a `script: true` task.
 */
import type { Task } from "../api/task.ts";
import { runScript } from "../files/shell.ts";
import { describeValue } from "../values/errors.ts";
import { handlerForValue } from "../values/registry.ts";

function mapRegistered(value: unknown, hook: "preprocess" | "postprocess"): unknown {
  if (Array.isArray(value)) return value.map((v) => mapRegistered(v, hook));
  if (value && typeof value === "object") {
    const handler = handlerForValue(value);
    if (handler) return handler[hook] ? handler[hook]!(value) : value;
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = mapRegistered(v, hook);
      return out;
    }
  }
  return value;
}

/**
 * Calls the task's function on concrete arguments and awaits its result.
 *
 * @param options - the call's effective task options; with `script: true` the function's
 *   result is a shell command, which is run here, and its standard output is the result.
 */
export async function runTask(
  task: Task,
  args: readonly unknown[],
  options: Readonly<Record<string, unknown>> = {},
): Promise<unknown> {
  const result = await task.func(...(mapRegistered(args, "preprocess") as unknown[]));
  if (options.script) {
    if (typeof result !== "string") {
      throw new TypeError(
        `task "${task.fullname}" has the option script: true, so it must return a shell ` +
          `command (a string), not ${typeof result === "object" ? describeValue(result) : typeof result}`,
      );
    }
    return (await runScript(result)).stdout;
  }
  return mapRegistered(result, "postprocess");
}
