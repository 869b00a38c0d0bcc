/**
 * Running a task function where the job runs (scheduler thread, worker, container): the
 * one place that applies registered types' pre/post-processing around the call.
 */
import type { Task } from "../api/task.ts";
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

/** Calls the task's function on concrete arguments and awaits its result. */
export async function runTask(task: Task, args: readonly unknown[]): Promise<unknown> {
  const result = await task.func(...(mapRegistered(args, "preprocess") as unknown[]));
  return mapRegistered(result, "postprocess");
}
