/**
 * Running a task function where the job runs (scheduler thread, worker, container): the
 * one place that applies registered types' pre/post-processing around the call, and runs
 * the command of a `script: true` task.
 */
import type { Task } from "../api/task.ts";
import { runWithSignal } from "../api/task-signal.ts";
import { runScript } from "../files/shell.ts";
import { MAX_VALUE_DEPTH, tooDeepError } from "../values/depth.ts";
import { describeValue } from "../values/errors.ts";
import { handlerForValue } from "../values/registry.ts";

/** Thrown inside mapRegistered past MAX_VALUE_DEPTH; the caller names the value. */
const TOO_DEEP = Symbol("too deep");

function mapRegistered(value: unknown, hook: "preprocess" | "postprocess", depth = 0): unknown {
  if (value === null || typeof value !== "object") return value;
  // A cycle, too, ends here: the caller tells the two apart.
  if (depth >= MAX_VALUE_DEPTH) throw TOO_DEEP;
  if (Array.isArray(value)) return value.map((v) => mapRegistered(v, hook, depth + 1));
  const handler = handlerForValue(value);
  if (handler) return handler[hook] ? handler[hook]!(value) : value;
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = mapRegistered(v, hook, depth + 1);
    return out;
  }
  return value;
}

function mapValue(value: unknown, hook: "preprocess" | "postprocess", where: string): unknown {
  try {
    return mapRegistered(value, hook);
  } catch (error) {
    throw error === TOO_DEEP ? tooDeepError(value, where) : error;
  }
}

/**
 * What a task threw, as an Error: `throw {a: 1}` (or a string) keeps its content in the
 * message and as `thrown`, so it is recorded and shown rather than "[object Object]".
 */
function asError(thrown: unknown, task: Task): unknown {
  if (thrown instanceof Error) return thrown;
  let text: string;
  try {
    text = typeof thrown === "string" ? thrown : (JSON.stringify(thrown) ?? String(thrown));
  } catch {
    text = String(thrown);
  }
  const error = new Error(`task "${task.fullname}" threw ${describeThrown(thrown)}: ${text}`);
  (error as Error & { thrown: unknown }).thrown = thrown;
  return error;
}

function describeThrown(thrown: unknown): string {
  if (thrown === null) return "null";
  if (typeof thrown !== "object") return `a ${typeof thrown}, not an Error`;
  return Array.isArray(thrown) ? "an array, not an Error" : "an object, not an Error";
}

/**
 * Calls the task's function on concrete arguments and awaits its result.
 *
 * @param options - the call's effective task options; with `script: true` the function's
 *   result is a shell command, which is run here, and its standard output is the result.
 * @param signal - the job's abort signal, which the task reads with `currentSignal()`.
 */
export async function runTask(
  task: Task,
  args: readonly unknown[],
  options: Readonly<Record<string, unknown>> = {},
  signal?: AbortSignal,
): Promise<unknown> {
  const where = `result of task "${task.fullname}"`;
  const input = args.map((arg, i) =>
    mapValue(arg, "preprocess", `argument "${task.paramNames[i] ?? i}" of task "${task.fullname}"`),
  );
  let result: unknown;
  try {
    result = await (signal
      ? runWithSignal(signal, () => task.func(...input))
      : task.func(...input));
  } catch (error) {
    throw asError(error, task);
  }
  if (options.script) {
    if (typeof result !== "string") {
      throw new TypeError(
        `task "${task.fullname}" has the option script: true, so it must return a shell ` +
          `command (a string), not ${typeof result === "object" ? describeValue(result) : typeof result}`,
      );
    }
    return (await runScript(result, { signal })).stdout;
  }
  return mapValue(result, "postprocess", where);
}
