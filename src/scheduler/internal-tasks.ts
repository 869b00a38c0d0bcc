/**
 * The engine's own tasks, which give provenance a job where Python redun has one: the root
 * of an execution whose expression is not a single call, and each `catch_`.
 */
import { task, type Task } from "../api/task.ts";
import { Delayed } from "../expressions/helpers.ts";

/**
 * The root of an execution whose expression is a list, an object or a helper expression:
 * it returns the (quoted) expression, which the scheduler then evaluates beneath it.
 */
export const rootTask: Task<[Delayed<unknown>], unknown> = task(
  { name: "root_task", namespace: "redun", version: "1" },
  function root_task(quoted: Delayed<unknown>) {
    return quoted.expr;
  },
);

/** The job of a `catch_`: the scheduler evaluates it; the function never runs. */
export const catchTask: Task<[], unknown> = task(
  { name: "catch_", namespace: "redun", version: "1" },
  function catch_() {
    throw new Error("catch_ is evaluated by the scheduler");
  },
);

/** Whether a task is one of the engine's own (run in the scheduler, never a dry-run miss). */
export function isInternalTask(t: Task): boolean {
  return t === rootTask || t === catchTask;
}
